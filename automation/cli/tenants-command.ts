/**
 * `zekt tenants create|list|show|destroy|reconcile` — the operator's handle on the tenant
 * lifecycle. The CLI does no Pulumi work itself: like the signup endpoint it records requests in
 * the registry and enqueues jobs (enqueue-provisioning.ts), then follows the registry while the
 * platform's worker runs them — a progress bar on a terminal, plain lines otherwise, one JSON
 * document with `--json`.
 *
 * Exit codes, for scripts: 0 done; 1 the operation failed (the tenant is `failed`, or a reconcile
 * could not repair a tenant); 2 invalid input; 3 no such tenant; 4 refused in the tenant's current
 * state; 5 still running when the wait timed out (the job goes on); 6 the platform cannot be
 * reached.
 */
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { InvalidTenantIdError, assertTenantId } from '../../tenant-stack/tenant-id.ts';
import { messageAudienceOf } from '../../runtime/tenant/messages/message-audience.ts';
import { enqueueDeprovisioning, enqueueProvisioning, enqueueReconcile, TenantStateError } from '../enqueue-provisioning.ts';
import type { JobQueue } from '../provisioning-jobs.ts';
import type { ReconcileRuns } from '../reconcile-runs.ts';
import type { ReconcileReport } from '../reconcile-tenants.ts';
import { TenantNotFoundError, type TenantRecord, type TenantRegistry, type TenantStatus } from '../tenant-registry.ts';
import { errorReference } from '../error-reference.ts';

export const exitCodes = { ok: 0, failed: 1, invalid: 2, notFound: 3, refused: 4, timedOut: 5, unavailable: 6 } as const;

/** The wait ended before the job did. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

export interface TenantsCommandDeps {
  /** Opened on first use (settings are read only when a command runs). */
  readonly controlPlane: () => Promise<{ registry: TenantRegistry; jobs: JobQueue; runs: ReconcileRuns }>;
  readonly out: (line: string) => void;
  readonly setExitCode: (code: number) => void;
  /** Where progress goes; a bar when it is a terminal, plain lines otherwise. */
  readonly progress: NodeJS.WriteStream | { isTTY?: boolean; write(text: string): boolean };
  /** Error classes that mean "the platform cannot be reached" (exit 6). */
  readonly unavailable?: readonly (new (...args: never[]) => Error)[];
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What an operator sees of a tenant: status, progress, error and public outputs (no secret exists in a record). */
function view(record: TenantRecord) {
  const { etag: _etag, ...rest } = record;
  // The reference is what a customer quotes (their view shows only it and a short reason).
  return {
    ...rest,
    ...(record.outputs ? { oidcAudience: messageAudienceOf(record.tenantId) } : {}),
    ...(rest.lastError ? { lastError: { ...rest.lastError, reference: errorReference(rest.lastError) } } : {}),
    ...(rest.reconcileError ? { reconcileError: { ...rest.reconcileError, reference: errorReference(rest.reconcileError) } } : {}),
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return n;
}

function tenantId(value: string): string {
  try {
    assertTenantId(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

export function tenantsCommand(deps: TenantsCommandDeps): Command {
  const pollMs = deps.pollMs ?? 500;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const command = new Command('tenants').description('tenant compartments: create, inspect, reconcile, destroy');

  const fail = (err: unknown, json: boolean) => {
    const code =
      err instanceof InvalidTenantIdError
        ? exitCodes.invalid
        : err instanceof TenantNotFoundError
          ? exitCodes.notFound
          : err instanceof TenantStateError
            ? exitCodes.refused
            : err instanceof WaitTimeoutError
              ? exitCodes.timedOut
              : deps.unavailable?.some((type) => err instanceof type)
                ? exitCodes.unavailable
                : exitCodes.failed;
    const message = (err as Error).message;
    deps.out(json ? JSON.stringify({ error: { name: (err as Error).name, message } }) : `error: ${message}`);
    deps.setExitCode(code);
  };

  /** Follows a tenant until it reaches one of `until`, showing progress; returns the record. */
  async function follow(tenant: string, until: readonly TenantStatus[], timeoutMs: number, quiet: boolean): Promise<TenantRecord> {
    const { registry } = await deps.controlPlane();
    const deadline = Date.now() + timeoutMs;
    const bar = !quiet && deps.progress.isTTY
      ? new cliProgress.SingleBar(
          { format: `${tenant} [{bar}] {value}/{total} {status} {current}`, stream: deps.progress as NodeJS.WriteStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    let started = false;
    let lastLine = '';
    try {
      for (;;) {
        const record = await registry.require(tenant);
        const done = record.progress?.done ?? 0;
        const total = Math.max(record.progress?.total ?? 0, done, 1);
        const payload = { status: record.status, current: record.progress?.current ?? '' };
        if (bar) {
          if (!started) bar.start(total, done, payload);
          else {
            bar.setTotal(total);
            bar.update(done, payload);
          }
          started = true;
        } else if (!quiet) {
          const line = `${tenant}: ${record.status} ${record.progress ? `${done}/${record.progress.total}` : ''}${record.progress?.current ? ` ${record.progress.current}` : ''}${record.lastError && record.nextAttemptAt ? ` (retrying after: ${record.lastError.name})` : ''}`.trimEnd();
          if (line !== lastLine) deps.progress.write(`${line}\n`);
          lastLine = line;
        }
        if (until.includes(record.status)) return record;
        if (Date.now() > deadline) throw new WaitTimeoutError(`tenant ${tenant} is still ${record.status} after ${Math.round(timeoutMs / 1000)} s; the job goes on (see \`zekt tenants show ${tenant}\`)`);
        await sleep(pollMs);
      }
    } finally {
      bar?.stop();
    }
  }

  function report(record: TenantRecord, json: boolean): void {
    if (json) return deps.out(JSON.stringify(view(record)));
    deps.out(`${record.tenantId}: ${record.status}`);
    if (record.outputs) {
      for (const [key, value] of Object.entries(record.outputs)) deps.out(`  ${key.padEnd(20)} ${value}`);
      // The Zekt Action's `endpoint` is messagesUrl above; its `audience` is this.
      deps.out(`  ${'oidcAudience'.padEnd(20)} ${messageAudienceOf(record.tenantId)}`);
    }
    if (record.lastError) {
      deps.out(`  error: ${record.lastError.name}: ${record.lastError.message.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
      if (record.lastError.cause) deps.out(`  cause: ${record.lastError.cause.name}: ${record.lastError.cause.message.split('\n')[0]}`);
      deps.out(`  reference: ${errorReference(record.lastError)} (${record.lastError.at})`);
    }
    if (record.reconcileError) {
      deps.out(`  reconcile error: ${record.reconcileError.name}: ${record.reconcileError.message.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
      deps.out(`  reference: ${errorReference(record.reconcileError)} (${record.reconcileError.at}; retried by the next reconcile)`);
    }
  }

  command
    .command('create <tenantId>')
    .description('provision a tenant (idempotent) and wait until it is ready')
    .option('--no-wait', 'return once the request is queued')
    .option('--timeout <seconds>', 'how long to wait', seconds, 600)
    .option('--json', 'one JSON document')
    .action(async (id: string, opts: { wait: boolean; timeout: number; json?: boolean }) => {
      try {
        const { registry, jobs } = await deps.controlPlane();
        const { record } = await enqueueProvisioning({ registry, jobs }, id);
        const final = opts.wait ? await follow(id, ['ready', 'failed'], opts.timeout * 1000, Boolean(opts.json)) : record;
        report(final, Boolean(opts.json));
        if (final.status === 'failed') deps.setExitCode(exitCodes.failed);
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('destroy <tenantId>')
    .description('offboard a tenant: destroy its compartment and remove its stack, then wait')
    .option('--no-wait', 'return once the request is queued')
    .option('--timeout <seconds>', 'how long to wait', seconds, 600)
    .option('--json', 'one JSON document')
    .action(async (id: string, opts: { wait: boolean; timeout: number; json?: boolean }) => {
      try {
        const { registry, jobs } = await deps.controlPlane();
        const { record } = await enqueueDeprovisioning({ registry, jobs }, id);
        const final = opts.wait ? await follow(id, ['deleted', 'failed'], opts.timeout * 1000, Boolean(opts.json)) : record;
        report(final, Boolean(opts.json));
        if (final.status === 'failed') deps.setExitCode(exitCodes.failed);
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('list')
    .description('every tenant with its status')
    .option('--json', 'one JSON document')
    .action(async (opts: { json?: boolean }) => {
      try {
        const records = await (await deps.controlPlane()).registry.list();
        if (opts.json) return deps.out(JSON.stringify(records.map(view)));
        if (records.length === 0) return deps.out('no tenants');
        for (const r of records) {
          const progress = r.progress ? `${r.progress.done}/${r.progress.total}` : '-';
          deps.out([r.tenantId.padEnd(20), r.status.padEnd(14), progress.padEnd(7), r.updatedAt, r.outputs?.baseUrl ?? ''].join('  ').trimEnd());
        }
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('show <tenantId>')
    .description("one tenant: status, progress, outputs, last error with its cause")
    .option('--json', 'one JSON document')
    .action(async (id: string, opts: { json?: boolean }) => {
      try {
        assertTenantId(id);
        report(await (await deps.controlPlane()).registry.require(id), Boolean(opts.json));
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('reconcile [tenantIds...]')
    .description('refresh + up across tenants (all by default): report what drifted and what was repaired')
    .option('--no-wait', 'return once the request is queued')
    .option('--timeout <seconds>', 'how long to wait', seconds, 1800)
    .option('--json', 'one JSON document')
    .action(async (ids: string[], opts: { wait: boolean; timeout: number; json?: boolean }) => {
      try {
        const chosen = ids.map(tenantId);
        const { jobs, runs } = await deps.controlPlane();
        const { runId } = await enqueueReconcile({ jobs, runs }, chosen.length ? { tenantIds: chosen } : {});
        if (!opts.wait) return deps.out(opts.json ? JSON.stringify({ runId }) : `reconcile ${runId} queued`);
        const deadline = Date.now() + opts.timeout * 1000;
        let result: ReconcileReport | undefined;
        while (!result) {
          result = (await runs.get(runId))?.report;
          if (result) break;
          if (Date.now() > deadline) throw new WaitTimeoutError(`reconcile ${runId} is still running after ${opts.timeout} s`);
          await sleep(pollMs);
        }
        if (opts.json) deps.out(JSON.stringify(result));
        else {
          if (result.tenants.length === 0) deps.out('no tenants');
          for (const t of result.tenants) {
            deps.out(`${t.tenantId}: ${t.outcome}`);
            for (const d of t.drifted) deps.out(`  drifted   ${d.op.padEnd(8)} ${d.urn.split('::').at(-1)} (${d.type.split(':').at(-1)})`);
            for (const r of t.repaired) deps.out(`  repaired  ${r.op.padEnd(8)} ${r.urn.split('::').at(-1)} (${r.type.split(':').at(-1)})`);
            if (t.error) deps.out(`  error: ${t.error.name}: ${t.error.message.split('\n').filter(Boolean).at(-1) ?? ''}`);
          }
        }
        if (result.tenants.some((t) => t.outcome === 'failed')) deps.setExitCode(exitCodes.failed);
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  return command;
}
