/**
 * The fault rig shared by `npm run bench:faults` and its small versions in the test suite: the
 * real local platform (`npm start`'s parts, in this process, Azurite persisted under a temp state
 * dir so it can be stopped and started again on the same ports), one tenant provisioned through
 * the control plane and bound to an installation, signed deliveries at a fixed rate from a load
 * generator in its own process (load-process.ts), and faults injected while they flow. Counting
 * is from storage, never from the load generator's hopes: stored = a delivery row on the
 * platform; forwarded = that row `delivered` and the tenant's own dedupe row for it; lost =
 * answered 202 but not forwarded by the deadline; duplicated = answered 202 more than once (a
 * repeat stored as new).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { startAzurite, type AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { enqueueProvisioning } from '../../automation/enqueue-provisioning.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import type { LoadAnswers, LoadPlan } from './load-process.ts';
import { descendants, isAlive } from '../control-plane/support/processes.ts';

export interface Rig {
  readonly platform: LocalPlatform;
  readonly tenantId: string;
  readonly webhookUrl: string;
  /** Stops the platform's Azurite (SIGTERM) and starts it again on the same ports after `ms`. */
  storageOutage(ms: number): Promise<void>;
  /** Keeps the tenant runtime dead (SIGKILL, again at every restart) for `ms`. */
  tenantOutage(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface LoadResult {
  readonly load: string;
  readonly fault: string;
  readonly sent: number;
  readonly accepted: number;
  /** Answers that were not 202/200 (5xx, or the connection failed): GitHub retries those. */
  readonly refused: number;
  readonly stored: number;
  readonly forwarded: number;
  readonly lost: readonly string[];
  readonly duplicated: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadProcess = fileURLToPath(new URL('./load-process.ts', import.meta.url));

export async function startRig(options: { tenantId?: string; readyTimeoutMs?: number; logLevel?: string; trace?: boolean } = {}): Promise<Rig> {
  const tenantId = options.tenantId ?? 'acme';
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-faults-'));
  const platform = await startLocalPlatform({
    env: {
      ZEKT_PORT: '0',
      ZEKT_RESOURCE_MANAGER_PORT: '0',
      ZEKT_LOG_LEVEL: options.logLevel ?? 'silent',
      // Short forward retries: a tenant back after a minute is caught up within seconds.
      ZEKT_FORWARD_RETRY_SCHEDULE: '1,2,4,8,15,30,30,30,30,30,30,30',
      ZEKT_FORWARD_TIMEOUT_MS: '5000',
    },
    stateDir,
  });
  let restarted: AzuriteInstance | undefined;
  try {
    const cp = platform.controlPlane;
    const parts = platform.parts;
    if (!cp || !parts || !platform.githubDouble) throw new Error('the local platform runs no control plane');
    await enqueueProvisioning({ registry: cp.registry, jobs: cp.jobs }, tenantId);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 240_000);
    let record = await cp.registry.require(tenantId);
    while (record.status !== 'ready') {
      if (record.status === 'failed' || Date.now() > deadline) throw new Error(`tenant ${tenantId} is ${record.status}: ${record.lastError?.message ?? ''}`);
      await sleep(500);
      record = await cp.registry.require(tenantId);
    }
    await parts.ingress.installations.bind(4242, tenantId, {}, new Date());
    const names = tenantResourceNames(tenantId, record.creationId);
    const azuriteDir = path.join(stateDir, 'azurite');
    const ports = {
      blob: Number(new URL(platform.storage.blob).port),
      queue: Number(new URL(platform.storage.queue).port),
      table: Number(new URL(platform.storage.table).port),
    };
    return {
      platform,
      tenantId,
      webhookUrl: `${platform.platformUrl}/api/github/webhooks`,
      async storageOutage(ms) {
        const azurite = (await descendants(process.pid)).find((p) => p.command.includes('azurite') && p.command.includes(`--location ${azuriteDir}`));
        if (!azurite) throw new Error("the platform's Azurite was not found");
        const t0 = Date.now();
        const trace = (what: string) => options.trace && process.stderr.write(`storage outage: ${what} at +${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        process.kill(azurite.pid, 'SIGTERM');
        void (async () => {
          while (isAlive(azurite.pid)) await sleep(100);
          trace(`old Azurite ${azurite.pid} gone`);
        })();
        await sleep(ms);
        await restarted?.stop();
        trace('starting Azurite again');
        restarted = await startAzurite({ location: azuriteDir, ports });
        trace('Azurite listening again');
      },
      async tenantOutage(ms) {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          const pid = cp.manager.resources.getFunctionRuntime(names.functionApp)?.pid;
          if (pid) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }
          await sleep(50);
        }
      },
      async close() {
        await platform.stop();
        await restarted?.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await platform.stop();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Sends `count` signed deliveries at `ratePerSecond` (workflow_run and workflow_job alternating,
 * `duplicateShare` of them a repeat of an earlier one), runs `fault` once `faultAfter` of them were
 * sent, then waits until every accepted delivery is forwarded or `settleMs` passed, and counts.
 */
export async function runLoad(
  rig: Rig,
  options: {
    readonly count: number;
    readonly ratePerSecond: number;
    readonly duplicateShare: number;
    readonly fault: string;
    readonly faultAfter?: number;
    readonly inject?: () => Promise<void>;
    readonly settleMs: number;
    /** Prints the settling counts every 10 s (the bench). */
    readonly progress?: boolean;
  },
): Promise<LoadResult> {
  const secret = rig.platform.githubDouble?.app.webhookSecret as string;
  const faultAt = options.inject ? Math.floor(options.count * (options.faultAfter ?? 0.25)) : -1;
  const plan: LoadPlan = { url: rig.webhookUrl, secret, count: options.count, ratePerSecond: options.ratePerSecond, duplicateShare: options.duplicateShare, faultAt };
  const child = spawn(process.execPath, ['--import', 'tsx', loadProcess], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(plan));
  let start = Date.now();
  let faultDone: Promise<void> = Promise.resolve();
  let answers: LoadAnswers | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error('the load generator could not start', { cause: err })));
    child.once('exit', (code, signal) => (answers ? resolve() : reject(new Error(`the load generator exited without a result (code ${code}, signal ${signal})`))));
  });
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { started?: true; fault?: true; result?: LoadAnswers };
    if (message.started) start = Date.now();
    if (message.fault && options.inject) {
      const at = Date.now();
      faultDone = options.inject().then(() => {
        if (options.progress) process.stderr.write(`fault (${options.fault}) from ${((at - start) / 1000).toFixed(1)} s to ${((Date.now() - start) / 1000).toFixed(1)} s of the load\n`);
      });
    }
    if (message.result) answers = message.result;
  }
  await exited;
  await faultDone;
  const result = answers as LoadAnswers;
  if (options.progress) {
    const rows = result.timeline.map((b) => `${b.fromSecond} s: ${b.ok} answered, ${b.refused} refused; sent at most ${b.lateMs} ms late`);
    process.stderr.write(`timeline (${options.fault}):\n  ${rows.join('\n  ')}\n`);
  }
  if (Object.keys(result.reasons).length) process.stderr.write(`refusals (${options.fault}): ${JSON.stringify(result.reasons)}\n`);
  const accepted = new Map(Object.entries(result.accepted));
  const refused = result.refused;
  return count(rig, options, accepted, refused);
}

async function count(
  rig: Rig,
  options: { readonly ratePerSecond: number; readonly count: number; readonly fault: string; readonly settleMs: number; readonly progress?: boolean },
  accepted: Map<string, number>,
  refused: number,
): Promise<LoadResult> {
  const sentCount = options.count;
  const cp = rig.platform.controlPlane;
  const parts = rig.platform.parts;
  if (!cp || !parts) throw new Error('no control plane');
  const record = await cp.registry.require(rig.tenantId);
  const names = tenantResourceNames(rig.tenantId, record.creationId);
  const account = cp.manager.resources.getStorageAccount(names.storageAccount);
  if (!account || !record.outputs) throw new Error('no tenant storage');
  const tenantSeen = new TableClient(record.outputs.tableEndpoint, 'deliveries', new AzureNamedKeyCredential(account.name, account.key), { allowInsecureConnection: true });
  const ids = [...accepted.keys()];
  let stored = new Set<string>();
  let forwarded = new Set<string>();
  const deadline = Date.now() + options.settleMs;
  let reported = Date.now();
  let swept = Date.now();
  for (;;) {
    try {
      const rows = await parts.ingress.deliveries.query({});
      stored = new Set(rows.map((r) => r.deliveryId));
      const delivered = new Set(rows.filter((r) => r.status === 'delivered').map((r) => r.deliveryId));
      const seen = new Set<string>();
      for await (const row of tenantSeen.listEntities({ queryOptions: { filter: "PartitionKey eq 'webhook'", select: ['RowKey'] } })) seen.add(row.rowKey as string);
      forwarded = new Set(ids.filter((id) => delivered.has(id) && seen.has(id)));
      if (options.progress && Date.now() - reported > 10_000) {
        reported = Date.now();
        const statuses = new Map<string, number>();
        for (const r of rows) if (accepted.has(r.deliveryId)) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const why = rows.find((r) => accepted.has(r.deliveryId) && r.status === 'retrying')?.lastError;
        process.stderr.write(`settling (${options.fault}): ${forwarded.size}/${ids.length} forwarded, rows ${JSON.stringify(Object.fromEntries(statuses))}${why ? `; a retry's reason: ${why}` : ''}\n`);
      }
    } catch (err) {
      // Storage still coming back: count again shortly.
      if (options.progress) process.stderr.write(`settling (${options.fault}): count failed: ${(err as Error).message}\n`);
    }
    if (forwarded.size === ids.length || Date.now() > deadline) break;
    // Announcements lost in an outage are made again by the sweeper: here every 15 s for rows
    // stalled 30 s (the timer's minute and two minutes, shortened). Not every second: each sweep
    // announces every stalled row again, and the copies pile up in front of the router.
    if (Date.now() - swept > 15_000) {
      swept = Date.now();
      await parts.ingress.sweep(30_000).catch(() => undefined);
    }
    await sleep(1000);
  }
  return {
    load: `${sentCount} at ${options.ratePerSecond}/s`,
    fault: options.fault,
    sent: sentCount,
    accepted: ids.length,
    refused,
    stored: ids.filter((id) => stored.has(id)).length,
    forwarded: forwarded.size,
    lost: ids.filter((id) => !forwarded.has(id)),
    duplicated: [...accepted].filter(([, n]) => n > 1).map(([id]) => id),
  };
}

/** The bench's table: one row per scenario. */
export function formatTable(rows: readonly LoadResult[]): string {
  const header = ['load', 'fault', 'accepted', 'refused (5xx)', 'stored', 'forwarded', 'lost', 'duplicated'];
  const cells = rows.map((r) => [r.load, r.fault, String(r.accepted), String(r.refused), String(r.stored), String(r.forwarded), String(r.lost.length), String(r.duplicated.length)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.map(line)].join('\n');
}
