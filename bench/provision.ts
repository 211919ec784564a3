/**
 * `npm run bench:provision`: signup → `ready` on the local target, through the same path as
 * `npm start` — `enqueueProvisioning` (what signup calls), the provisioning queue function on the
 * local host, the worker, the Automation API on the real engine, the resource manager. Scenarios:
 * one tenant (BENCH_RUNS times, 3 by default), then BENCH_TENANTS tenants (20 by default) signed
 * up at once at parallelism 1, 2 and 4. Each scenario gets a fresh Azurite, state dir and
 * resource manager. Prints medians, ratios, the control plane's own overhead and the worker's peak
 * RSS; never fails on them (targets are printed next to the figures).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAzurite } from '../local/azurite/start-azurite.ts';
import { startLocalControlPlane } from '../local/start-local-control-plane.ts';
import { enqueueProvisioning } from '../automation/enqueue-provisioning.ts';
import type { ProvisioningTimings } from '../automation/provisioning-worker.ts';
import { loadConfig, loadEngineConfig } from '../runtime/config.ts';
import { createLogger } from '../runtime/core/logger.ts';
import { zektVersion } from '../runtime/core/version.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { createLocalHost } from '../runtime/local-host/create-local-host.ts';
import { createPlatformFunctions } from '../runtime/platform/platform-functions.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const fleet = Number(process.env.BENCH_TENANTS ?? 20);

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)] as number) : NaN;
};
const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** RSS of this process's descendants that are the engine or its plugin, summed (Linux /proc). */
async function engineRss(): Promise<number> {
  const procs: { pid: number; ppid: number; cmd: string; rss: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${entry}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      procs.push({ pid: Number(entry), ppid, cmd, rss });
    } catch {
      // Gone while we looked.
    }
  }
  let total = 0;
  let frontier = [process.pid];
  while (frontier.length) {
    const children = procs.filter((p) => frontier.includes(p.ppid));
    for (const child of children) if (/bin\/pulumi |dynamic-provider-host/.test(`${child.cmd} `)) total += child.rss;
    frontier = children.map((c) => c.pid);
  }
  return total;
}

interface ScenarioResult {
  readonly name: string;
  readonly tenants: number;
  readonly parallelism: number;
  readonly wallMs: number;
  readonly signupToReadyMs: readonly number[];
  readonly timings: readonly ProvisioningTimings[];
  readonly peakWorkerRss: number;
  readonly peakEngineRss: number;
  readonly failed: number;
}

async function scenario(name: string, ids: readonly string[], parallelism: number): Promise<ScenarioResult> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-bench-'));
  const azurite = await startAzurite();
  const timings: ProvisioningTimings[] = [];
  const log = createLogger({ level: 'warn' });
  let peakWorkerRss = 0;
  let peakEngineRss = 0;
  const sampler = setInterval(() => {
    peakWorkerRss = Math.max(peakWorkerRss, process.memoryUsage().rss);
    void engineRss().then((rss) => (peakEngineRss = Math.max(peakEngineRss, rss)));
  }, 100);
  try {
    const config = loadConfig({
      ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(),
      ZEKT_STATE_DIR: stateDir,
      ZEKT_PROVISIONING_PARALLELISM: String(parallelism),
      ZEKT_LOG_LEVEL: 'warn',
    });
    const storage = createStorage(config.storage);
    const controlPlane = await startLocalControlPlane({ config: { ...config, engine: loadEngineConfig(process.env) }, storage, log, managerPort: 0, overrides: { onTimings: (t) => timings.push(t) } });
    const host = await createLocalHost({
      table: createPlatformFunctions({ config, storage, log, version: zektVersion, provisioning: controlPlane.worker.handle }),
      storage,
      log,
      port: 0,
      // Take every job at once: the worker's own limit is what bounds parallelism.
      queue: { batchSize: 32, maxPollMs: 200 },
      timers: false,
    });
    try {
      const started = Date.now();
      await Promise.all(ids.map((id) => enqueueProvisioning({ registry: controlPlane.registry, jobs: controlPlane.jobs }, id)));
      for (;;) {
        const records = await controlPlane.registry.list();
        const finished = records.filter((r) => r.status === 'ready' || r.status === 'failed');
        if (finished.length === ids.length) {
          const wallMs = Date.now() - started;
          return {
            name,
            tenants: ids.length,
            parallelism,
            wallMs,
            signupToReadyMs: records.filter((r) => r.readyAt).map((r) => Date.parse(r.readyAt as string) - Date.parse(r.createdAt)),
            timings,
            peakWorkerRss,
            peakEngineRss,
            failed: records.filter((r) => r.status === 'failed').length,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await host.close();
      await controlPlane.stop();
    }
  } finally {
    clearInterval(sampler);
    await azurite.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

function overhead(timings: readonly ProvisioningTimings[]) {
  return {
    beforeUp: median(timings.map((t) => t.upStartedAt - t.jobTakenAt)),
    up: median(timings.map((t) => t.upFinishedAt - t.upStartedAt)),
    automationApiAfterUp: median(timings.map((t) => t.upReturnedAt - t.upFinishedAt)),
    afterUp: median(timings.map((t) => t.readyAt - t.upReturnedAt)),
    engineDoneToReady: median(timings.map((t) => t.readyAt - t.upFinishedAt)),
  };
}

console.log(`bench:provision — local target, real engine; ${os.cpus().length} CPUs, ${mb(os.totalmem())} RAM, Node ${process.version}`);

const singles: ScenarioResult[] = [];
for (let i = 0; i < runs; i++) singles.push(await scenario(`single #${i + 1}`, [`solo-${i + 1}`], 1));
const single = singles.flatMap((r) => r.signupToReadyMs);
const singleOverhead = overhead(singles.flatMap((r) => r.timings));
console.log(`\none tenant, signup → ready (median of ${runs}): ${s(median(single))}   [target < 15 s]`);
console.log(
  `  control-plane overhead: job taken → up started ${s(singleOverhead.beforeUp)} [target < 1 s]; ` +
    `up() returned → ready ${s(singleOverhead.afterUp)} [target < 1 s]`,
);
console.log(`  (the engine's up ${s(singleOverhead.up)}; Automation API reading outputs and history after the engine is done ${s(singleOverhead.automationApiAfterUp)})`);

const fleets: ScenarioResult[] = [];
for (const parallelism of [1, 2, 4]) {
  const ids = Array.from({ length: fleet }, (_, i) => `fleet${parallelism}-${String(i + 1).padStart(2, '0')}`);
  fleets.push(await scenario(`${fleet} tenants, parallelism ${parallelism}`, ids, parallelism));
}
console.log(`\n${fleet} tenants signed up at once:`);
console.log('  parallelism   all ready    speed-up   signup→ready median   up median   job→up   up→ready   failed   worker peak RSS   engine+plugins peak RSS');
const base = fleets[0]?.wallMs ?? NaN;
for (const r of fleets) {
  const o = overhead(r.timings);
  console.log(
    `  ${String(r.parallelism).padEnd(13)} ${s(r.wallMs).padEnd(12)} ${`${(base / r.wallMs).toFixed(2)}×`.padEnd(10)} ${s(median(r.signupToReadyMs)).padEnd(21)} ` +
      `${s(o.up).padEnd(11)} ${s(o.beforeUp).padEnd(8)} ${s(o.afterUp).padEnd(10)} ${String(r.failed).padEnd(8)} ${mb(r.peakWorkerRss).padEnd(17)} ${mb(r.peakEngineRss)}`,
  );
}
const p4 = fleets.find((r) => r.parallelism === 4);
if (p4) console.log(`  ${fleet} tenants at parallelism 4: ${s(p4.wallMs)}   [target < 120 s for 20]`);
const all = [...singles, ...fleets];
console.log(`\nworker peak RSS (the worker runs in the platform process with the resource manager, as under npm start): ${mb(max(all.map((r) => r.peakWorkerRss)))}`);
