/**
 * `npm run bench:dispatch`: orchestration's figures, printed (never asserted).
 *
 * The path: the GitHub double's webhook → the platform's ingress and router → the tenant's intake
 * → its deliveries queue → fan-out → dispatcher → a broker token → the double's
 * `repository_dispatch`. All parts run in this one process (the test world of tests/dispatch),
 * Azurite in its own; so the process's CPU is platform, tenant runtime and double together.
 *
 * 1. Latency: 20 completed runs a second for 8 s, 3 consumers each (budget raised out of the way):
 *    provider run completed (webhook sent) → dispatch accepted by the double, p50/p99.
 * 2. Drain: one event to 200 consumers under a budget of 600 a minute, on a clock scaled 10×
 *    (60 per 6-second window, the 1 s margin unscaled): drain time against the ideal, and the
 *    most dispatches that reached the double in any one window.
 * 3. Cost: CPU per dispatched delivery during step 1, of this process and of Azurite.
 */
import { readFileSync } from 'node:fs';
import { maxInWindow, startDispatchWorld } from '../tests/dispatch/support.ts';

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(50);
}

const world = await startDispatchWorld();
try {
  // 1 and 3: latency and cost.
  const acme = await world.addTenant('acme', { orchestration: { config: { budgetPerMinute: 1_000_000, budgetPerHour: 1_000_000 } } });
  const repos = await world.install('acme', 'acme', ['build', 'deploy', 'docs', 'web']);
  for (const name of ['deploy', 'docs', 'web']) await acme.subscribe(repos[name] as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
  // Warm-up: first tokens, first table writes.
  await world.run({ action: 'completed', repository: 'acme/build', runId: 1 });
  await until(() => world.double.dispatches.length >= 3, 30_000);
  const rate = 20;
  const seconds = 8;
  const sentAt = new Map<number, number>();
  const before = world.double.dispatches.length;
  const cpu0 = process.cpuUsage();
  const azurite0 = cpuSeconds(world.azuritePid);
  const sends: Promise<void>[] = [];
  let refused = 0;
  const start = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const runId = 1000 + i;
    sentAt.set(runId, Date.now());
    sends.push(world.run({ action: 'completed', repository: 'acme/build', runId }).catch(() => void refused++));
  }
  await Promise.all(sends);
  const expected = before + rate * seconds * 3;
  await until(() => world.double.dispatches.length >= expected - refused * 3, 120_000);
  const cpu = process.cpuUsage(cpu0);
  const azuriteCpu = cpuSeconds(world.azuritePid) - azurite0;
  const done = world.double.dispatches.slice(before);
  const latencies = done
    .map((d) => Date.parse(d.receivedAt) - (sentAt.get((d.clientPayload as { run: { id: number } }).run.id) ?? NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  console.log(`latency: ${rate} runs/s for ${seconds} s, 3 consumers each: ${done.length}/${rate * seconds * 3} dispatched (${refused} webhooks refused by the ingress); run completed → dispatch accepted p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
  console.log(`cost: CPU per dispatched delivery: ${(((cpu.user + cpu.system) / 1000) / done.length).toFixed(2)} ms in this process (platform + tenant + double), ${((azuriteCpu * 1000) / done.length).toFixed(2)} ms in Azurite`);

  // 2: the drain.
  const windowMs = 6000;
  const budget = 60;
  const globex = await world.addTenant('globex', { orchestration: { config: { budgetPerMinute: budget, budgetPerHour: 100_000 }, budgetWindows: { minuteMs: windowMs, hourMs: 3_600_000 } } });
  const consumers = Array.from({ length: 200 }, (_, i) => `c${i}`);
  const grepos = await world.install('globex', 'globex', ['build', ...consumers]);
  for (const name of consumers) await globex.subscribe(grepos[name] as never, [{ provider: grepos.build as never, conclusions: ['success'] }]);
  const mark = world.double.dispatches.length;
  await world.run({ action: 'completed', repository: 'globex/build', runId: 7 });
  await until(() => world.double.dispatches.length >= mark + 200, 180_000);
  const arrivals = world.double.dispatches.slice(mark).map((d) => Date.parse(d.receivedAt)).sort((a, b) => a - b);
  const drain = (arrivals[arrivals.length - 1] as number) - (arrivals[0] as number);
  const ideal = (Math.ceil(200 / budget) - 1) * windowMs;
  console.log(
    `drain: 200 consumers, budget ${budget} per ${windowMs / 1000} s window (600/min scaled 10×): ${arrivals.length}/200 dispatched; first → last ${(drain / 1000).toFixed(1)} s against an ideal ${(ideal / 1000).toFixed(1)} s; most in any window ${maxInWindow(arrivals, windowMs)} (budget ${budget})`,
  );
} finally {
  await world.close();
}
