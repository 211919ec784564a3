/**
 * `npm run bench:dispatch`: orchestration's figures through the whole local path, printed (never
 * asserted). Every part of Zekt runs as `npm start` runs it (bench/dispatch-platform.ts; the
 * GitHub double, with the sender of completed runs, in a process of its own): the GitHub
 * double's `workflow_run.completed` webhook → the platform's intake and router → the tenant
 * runtime's intake (its own process and its own Azurite) → fan-out →
 * dispatcher → a broker token → the double's `repository_dispatch`. The double's own limits are
 * raised out of the way (Zekt's budget is what the drain measures), and each measured stage has
 * an installation of its own (the double's 5,000 requests an hour per installation).
 *
 * 1. `latency`: 20 completed runs a second for BENCH_SECONDS (10), 3 consumers each (the budget
 *    raised out of the way): webhook sent → dispatch accepted by the double, p50/p99.
 * 2. `cost`: one consumer per run, so a run is one delivery end to end; a fixed BENCH_COST_RATE
 *    (200) deliveries/s for BENCH_SECONDS: CPU per delivery in each process (platform, each
 *    Azurite, the tenant runtime, GitHub's side; the platform's figure split by a sampling
 *    profile into Zekt's frames and Node's own), the platform's and its Azurite's against the
 *    floor measured first at the same rate (support/persist-floor.ts: verify, one insert, 202),
 *    and both sides' storage requests per delivery by method and resource (each counts them
 *    itself: ZEKT_BENCH_STORAGE_REQUEST_COUNTS for the tenant runtime).
 * 3. `ceiling`: rising rates (BENCH_RATES, 300,400,600,800) for 5 s each: the highest at which
 *    every delivery is dispatched within 10 s of the last send, none refused.
 * 4. `drain`: one event to 200 consumers under a budget of 600 a minute, on the budget's clock
 *    scaled 10× (ZEKT_DISPATCH_BUDGET_TIME_SCALE=10: 60 per 6 s window) with its margin
 *    ZEKT_DISPATCH_BUDGET_MARGIN_MS=150 (0.15 of the default 1 s, not a tenth: the margin covers
 *    the spread of the requests' transit, which the scaled clock does not shrink; with 100 ms, 2
 *    runs of 3 saw 61 and 62 in a window once the dispatcher sent through undici): drain time
 *    against the ideal, and the most dispatches reaching the double in any one window.
 *
 * BENCH_STAGES picks stages (all by default); BENCH_PROFILE_DIR keeps CPU profiles of the
 * platform (the cost stage) and of the tenant runtime (its whole life).
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { countStorageRequests, type StorageRequestCounts } from '../runtime/storage/count-storage-requests.ts';
import { startBenchPlatform } from './dispatch-platform.ts';
import { cpuOf, cpuSeconds, processesBelow } from './process-cpu.ts';
import { startProfile } from './profile-share.ts';
import { describeLowRateFactor, measureLowRateFactor } from './support/low-rate-factor.ts';
import { describePersistFloor, measurePersistFloor } from './support/persist-floor.ts';
import { workflowRunPayload } from '../tests/fixtures/index.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
// The cost stage's fixed rate (200 by default; lower to compare two versions on a busy machine).
const costRate = Number(process.env.BENCH_COST_RATE ?? 200);
const rates = (process.env.BENCH_RATES ?? '300,400,600,800').split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
function maxInWindow(sorted: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const counting: { file?: string; platformFile?: string } = {};
/** A process's storage requests so far, by method and resource, from the file it writes them to. */
async function storageRequests(file: string | undefined): Promise<Record<string, number>> {
  if (!file) return {};
  const text = await readFile(file, 'utf8').catch(() => '');
  return text ? (JSON.parse(text) as StorageRequestCounts).counts : {};
}

const bench = await startBenchPlatform('bench');
const { github } = bench;
const sendRuns = (repository: string, rate: number, forSeconds: number) => github.sendRuns(repository, rate, forSeconds);

const stages = new Set((process.env.BENCH_STAGES ?? 'latency,cost,ceiling,drain').split(','));
const elapsed = () => `${process.uptime().toFixed(0)} s since start`;
// Ctrl-C stops every process the benchmark started (Azurite, the tenant runtime), not just this one.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void bench.stop().finally(() => process.exit(130)));
// The double's limits are GitHub's; out of the way here, so that what is measured is Zekt's path
// and Zekt's own budget (the drain reads the double's arrival times against that budget). Its
// primary limit (5,000 requests an hour per installation) is fixed at start: each measured stage
// has an installation of its own.
await github.setSecondaryRateBudget({ contentCreatingPerMinute: 10_000_000, contentCreatingPerHour: 10_000_000, pointsPerMinute: 100_000_000 });

async function warm(repository: string, consumers: number) {
  const sent = await sendRuns(repository, 10, 2);
  await github.waitForDispatches(sent, sent.count * consumers, 120_000);
}

try {
  // BENCH_PROFILE_DIR: the tenant runtime writes a CPU profile there when it stops.
  const profiling: Record<string, string> = process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` } : {};
  // The tenant runtime counts its storage requests into this file (the cost stage prints them per delivery).
  const countsDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-bench-counts-'));
  counting.file = path.join(countsDir, 'tenant-storage-requests.json');
  // The platform (this process) counts its own requests to its Azurite (Azurite's default account) alike.
  counting.platformFile = path.join(countsDir, 'platform-storage-requests.json');
  const platformStorage = Object.values(bench.platform.storage);
  countStorageRequests({ accountName: 'devstoreaccount1', endpoints: platformStorage, file: counting.platformFile });
  await bench.setTenantSettings({ ZEKT_DISPATCH_BUDGET_PER_MINUTE: '1000000', ZEKT_DISPATCH_BUDGET_PER_HOUR: '1000000', ZEKT_BENCH_STORAGE_REQUEST_COUNTS: counting.file, ...profiling });
  console.log(`setup: platform, tenant provisioned and subscribed (${elapsed()})`);

  // 1. Latency.
  if (stages.has('latency')) {
    await bench.installWithSubscriptions('acme', 'build', ['deploy', 'docs', 'web']);
    await warm('acme/build', 3);
    const processes = processesBelow(process.pid).filter((p) => p.role !== 'other' && p.role !== 'engine');
    const before = cpuOf(processes);
    const self0 = cpuSeconds(process.pid);
    const sent = await sendRuns('acme/build', 20, seconds);
    const expected = (sent.count - sent.refused) * 3;
    await github.waitForDispatches(sent, expected, 180_000);
    const self = cpuSeconds(process.pid) - self0;
    const after = cpuOf(processes);
    const done = await github.dispatches(sent);
    const latencies = done.map((d) => d.receivedAt - (sent.sentAt.get(d.runId) as number)).sort((a, b) => a - b);
    console.log(
      `latency: 20 runs/s for ${seconds} s, 3 consumers each: ${done.length}/${sent.count * 3} dispatched, ${sent.refused} webhooks refused; run completed → dispatch accepted p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms (${elapsed()})`,
    );
    // Where the machine's time went: the waits above are mostly queueing for CPU when this is near the cores there are.
    const perRun = (cpu: number) => `${((cpu * 1000) / Math.max(1, sent.count)).toFixed(1)} ms`;
    const spent = processes.map((p) => `${p.role} ${perRun((after.get(p.pid) as number) - (before.get(p.pid) as number))}`);
    console.log(`  CPU per run (3 dispatches): platform process ${perRun(self)} · ${spent.join(' · ')}`);
  }

  // 2. Cost at a fixed rate (200 deliveries/s).
  if (stages.has('cost')) {
    // The machine's own charge for work done at this rate (bench/support/low-rate-factor.ts), measured while the path is idle.
    console.log(`  ${describeLowRateFactor(await measureLowRateFactor(JSON.stringify(workflowRunPayload()), costRate))}`);
    // The least a persist-first intake costs at this rate here, before it routes anything: the figures below read against it.
    const floor = await measurePersistFloor(costRate, 5);
    console.log(`  ${describePersistFloor(floor)}`);
    await bench.installWithSubscriptions('solo', 'lib', ['app']);
    await warm('solo/lib', 1);
    await sleep(3000);
    const processes = processesBelow(process.pid).filter((p) => p.role !== 'other' && p.role !== 'engine');
    const before = cpuOf(processes);
    const requests0 = await storageRequests(counting.file);
    const platformRequests0 = await storageRequests(counting.platformFile);
    const self0 = cpuSeconds(process.pid);
    const forwards0 = bench.platform.parts?.ingress.router.forwardCounts();
    const stopProfile = await startProfile();
    const sent = await sendRuns('solo/lib', costRate, seconds);
    const drained = await github.waitForDispatches(sent, sent.count - sent.refused, 120_000);
    const share = await stopProfile();
    const self = cpuSeconds(process.pid) - self0;
    const after = cpuOf(processes);
    // The runtime writes its counts every second: the last settles of the stage are in the next write.
    await sleep(2500);
    const requests = await storageRequests(counting.file);
    const platformRequests = await storageRequests(counting.platformFile);
    const done = await github.dispatches(sent);
    const lag = done.map((d) => d.receivedAt - (sent.sentAt.get(d.runId) as number)).sort((a, b) => a - b);
    const per = (cpu: number) => `${((cpu * 1000) / Math.max(1, done.length)).toFixed(2)} ms`;
    console.log(
      `cost: ${costRate} deliveries/s for ${seconds} s (1 consumer per run): ${done.length}/${sent.count} dispatched${drained ? '' : ' (timed out)'}, ${sent.refused} refused, p50 ${percentile(lag, 50)} ms, p99 ${percentile(lag, 99)} ms; CPU per delivery dispatched (${elapsed()}):`,
    );
    console.log(
      `  platform process ${per(self)} in all: platform ${per(self * share.platform)} (${per(self * (share.platform - share.unowned))} under Zekt's own frames, ${per(self * share.unowned)} in Node's internals, GC and the event loop with no frame of Zekt's), benchmark driver ${per(self * share.driver)} (split by a sampling profile; the GitHub double runs in its own process)`,
    );
    for (const p of processes) console.log(`  ${p.role} (pid ${p.pid}) ${per((after.get(p.pid) as number) - (before.get(p.pid) as number))}`);
    const platformAzurite = processes.find((p) => p.role === 'Azurite of the platform');
    const timesFloor = (ms: number, floorMs: number) => `${(ms / floorMs).toFixed(1)}× the floor's ${floorMs.toFixed(2)} ms`;
    console.log(
      `  against the floor: platform ${timesFloor((self * share.platform * 1000) / Math.max(1, done.length), floor.server)}${platformAzurite ? `, its Azurite ${timesFloor((((after.get(platformAzurite.pid) as number) - (before.get(platformAzurite.pid) as number)) * 1000) / Math.max(1, done.length), floor.storage)}` : ''}`,
    );
    const forwards = bench.platform.parts?.ingress.router.forwardCounts();
    if (forwards && forwards0) {
      const [requests, deliveries] = [forwards.requests - forwards0.requests, forwards.deliveries - forwards0.deliveries];
      console.log(`  forwards to the tenant: ${deliveries} deliveries in ${requests} requests (${(deliveries / Math.max(1, requests)).toFixed(1)} a request; route-delivery.ts batches what waits)`);
    }
    for (const [who, now, then] of [
      ['tenant runtime', requests, requests0],
      ['platform', platformRequests, platformRequests0],
    ] as const) {
      const spent = Object.entries(now).map(([key, n]) => [key, (n - (then[key] ?? 0)) / Math.max(1, done.length)] as const).filter(([, n]) => n >= 0.005).sort((a, b) => b[1] - a[1]);
      console.log(`  ${who} storage requests per delivery: ${spent.reduce((sum, [, n]) => sum + n, 0).toFixed(1)} (${spent.map(([key, n]) => `${key} ${n.toFixed(2)}`).join(' · ')})`);
    }
  }

  // 3. The ceiling: rising rates, each on an installation of its own, until one is not sustained.
  if (stages.has('ceiling')) {
    for (const [i, rate] of rates.entries()) {
      const org = `ceiling${i}`;
      await bench.installWithSubscriptions(org, 'lib', ['app']);
      await warm(`${org}/lib`, 1);
      await sleep(3000);
      const step = await sendRuns(`${org}/lib`, rate, 5);
      const kept = await github.waitForDispatches(step, step.count, Math.max(0, step.lastSentAt + 10_000 - Date.now()));
      const got = (await github.dispatches(step)).length;
      console.log(`ceiling: ${rate} deliveries/s for 5 s: ${got}/${step.count} dispatched within 10 s of the last send, ${step.refused} refused — ${kept && step.refused === 0 ? 'sustained' : 'not sustained'} (${elapsed()})`);
      if (!kept || step.refused > 0) {
        await github.waitForDispatches(step, step.count - step.refused, 120_000);
        break;
      }
    }
  }

  // 4. The drain under a scaled budget.
  if (stages.has('drain')) {
    const windowMs = 6000;
    const budget = 60;
    const marginMs = 150;
    await bench.setTenantSettings({
      ZEKT_DISPATCH_BUDGET_PER_MINUTE: String(budget),
      ZEKT_DISPATCH_BUDGET_PER_HOUR: '100000',
      ZEKT_DISPATCH_BUDGET_TIME_SCALE: '10',
      ZEKT_DISPATCH_BUDGET_MARGIN_MS: String(marginMs),
      ...profiling,
    });
    const consumers = Array.from({ length: 200 }, (_, i) => `c${i}`);
    await bench.installWithSubscriptions('globex', 'build', consumers);
    const sent = await sendRuns('globex/build', 1, 1);
    await github.waitForDispatches(sent, 200, 300_000);
    const arrivals = (await github.dispatches(sent)).map((d) => d.receivedAt).sort((a, b) => a - b);
    const drain = (arrivals[arrivals.length - 1] as number) - (arrivals[0] as number);
    const ideal = (Math.ceil(200 / budget) - 1) * windowMs;
    console.log(
      `drain: 200 consumers, budget ${budget} per ${windowMs / 1000} s window (600/min on a clock scaled 10×): ${arrivals.length}/200 dispatched; first → last ${(drain / 1000).toFixed(1)} s against an ideal ${(ideal / 1000).toFixed(1)} s (${((ideal + 3 * marginMs) / 1000).toFixed(1)} s with the ${marginMs} ms margin per window: ${((100 * ideal) / drain).toFixed(0)} % of the budget's rate); most in any window ${maxInWindow(arrivals, windowMs)} (budget ${budget}) (${elapsed()})`,
    );
  }
} finally {
  await bench.stop();
}
