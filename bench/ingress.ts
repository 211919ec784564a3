/**
 * `npm run bench:ingress`: the ceiling, the floor, the baseline and Zekt's ingress side by side, on the same
 * machine and the same real payloads (workflow_run ~17 KB, workflow_job ~10 KB, one padded to
 * 25 KB), each at 1, 16 and 64 concurrent requests and at a fixed 200 deliveries/s; plus Zekt's
 * webhook-in → tenant-received latency at 50 deliveries/s. Each server runs in its own process
 * with a fresh Azurite. Figures are medians over BENCH_RUNS runs (3 by default). Prints figures;
 * never fails on them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { startAzurite } from '../local/azurite/start-azurite.ts';
import { workflowJobPayload, workflowRunPayload } from '../tests/fixtures/index.ts';
import { platformNodeArguments } from '../runtime/platform/node-arguments.ts';
import { describeLowRateFactor, measureLowRateFactor } from './support/low-rate-factor.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
/** The fixed-rate steps run longer: a p99 needs enough samples (2,000 at 200/s). */
const fixedRateSeconds = Number(process.env.BENCH_FIXED_SECONDS ?? 10);
const secret = randomBytes(20).toString('hex');
const forwardSecret = `whsec_${randomBytes(24).toString('base64')}`;

interface Body {
  event: string;
  body: string;
  signature: string;
}
async function bodies(): Promise<Body[]> {
  const run = JSON.stringify(workflowRunPayload());
  const job = JSON.stringify(workflowJobPayload());
  const padded = JSON.stringify({ ...workflowRunPayload(), padding: 'x'.repeat(Math.max(0, 25 * 1024 - run.length - 14)) });
  return Promise.all(
    [
      ['workflow_run', run],
      ['workflow_job', job],
      ['workflow_run', padded],
    ].map(async ([event, body]) => ({ event: event as string, body: body as string, signature: await sign(secret, body as string) })),
  );
}

/** User + system CPU seconds a process has used so far, from /proc (NaN where there is none). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * Times a process's main thread has gone to sleep waiting for work and been woken (its voluntary
 * context switches, from /proc; NaN where there is none). At a low rate each wake-up costs far
 * more than the work it does here (README, "Performance").
 */
function wakes(pid: number | undefined): number {
  try {
    return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** CPU ms per delivery each process spent since `before` (their cpuSeconds then), over `count` deliveries. */
function cpuPerDelivery(pids: readonly (number | undefined)[], before: readonly number[], count: number): number[] {
  return pids.map((pid, i) => ((cpuSeconds(pid) - (before[i] as number)) / count) * 1000);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

function post(agent: http.Agent, url: URL, b: Body, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(b.body),
          'x-github-event': b.event,
          'x-github-delivery': id,
          'x-hub-signature-256': b.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(b.body);
  });
}

async function closedLoop(url: URL, payloads: Body[], concurrency: number): Promise<{ rate: number; count: number; p50: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const b = payloads[i++ % payloads.length] as Body;
        const t = performance.now();
        const status = await post(agent, url, b, randomUUID()).catch(() => 0);
        if (status === 202) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsed, count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function openLoop(url: URL, payloads: Body[], perSecond: number, onSent?: (id: string, at: number) => void, forSeconds = seconds): Promise<{ p50: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  const total = perSecond * forSeconds;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = randomUUID();
    const t = performance.now();
    onSent?.(id, t);
    pending.push(
      post(agent, url, payloads[n % payloads.length] as Body, id).then(
        (status) => {
          if (status === 202) latencies.push(performance.now() - t);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function startServer(kind: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: URL }> {
  // Every server gets the platform's own Node arguments (runtime/platform/node-arguments.ts).
  const child = spawn(process.execPath, [...platformNodeArguments, '--import', 'tsx', 'bench/ingress-server.ts', kind], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: new URL(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

/** The tenant end: answers 200 at once and notes when each delivery arrived (a batch's each, route-delivery.ts). */
async function startTenant(): Promise<{ url: string; arrivals: Map<string, number>; close(): void }> {
  const arrivals = new Map<string, number>();
  const arrived = (id: string) => void (arrivals.has(id) || arrivals.set(id, performance.now()));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!req.url?.endsWith('/batch')) {
        arrived(String(req.headers['webhook-id']));
        return void res.writeHead(200).end();
      }
      const ids = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { deliveries: { id: string }[] }).deliveries.map((d) => d.id);
      ids.forEach(arrived);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: ids.map((id) => ({ id, status: 200 })) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks`, arrivals, close: () => server.close() };
}

type Row = Record<string, number>;
// BENCH_KINDS picks some of them (e.g. `zekt` alone while working on Zekt's own path).
const kinds = (process.env.BENCH_KINDS ?? 'ceiling,floor,baseline,zekt').split(',').filter((k): k is 'ceiling' | 'floor' | 'baseline' | 'zekt' => ['ceiling', 'floor', 'baseline', 'zekt'].includes(k));
const results: Record<string, Row[]> = { ceiling: [], floor: [], baseline: [], zekt: [] };
const endToEnd: { p50: number; p99: number }[] = [];
const payloads = await bodies();
console.log(`payload sizes: ${payloads.map((p) => `${p.event} ${(p.body.length / 1024).toFixed(1)} KB`).join(', ')}; ${seconds} s per closed-loop step, ${fixedRateSeconds} s per fixed-rate step, ${runs} run(s); servers run with ${platformNodeArguments.join(' ')}`);

for (let run = 1; run <= runs; run++) {
  for (const kind of kinds) {
    const azurite = await startAzurite();
    const tenant = await startTenant();
    const server = await startServer(kind, {
      BENCH_STORAGE: azurite.connectionString(),
      BENCH_WEBHOOK_SECRET: secret,
      BENCH_FORWARD_SECRET: forwardSecret,
      BENCH_TENANT_URL: tenant.url,
    });
    const row: Row = {};
    const cleanups: (() => Promise<void>)[] = [];
    try {
      // Warm-up, not measured: JIT, connection pools and first table writes happen here.
      await openLoop(server.url, payloads, 100, undefined, 2);
      // The fixed rate first, on fresh storage: the closed-loop bursts after it leave tens of
      // thousands of rows and a backlog that would put their after-effects into its tail.
      const fixedCpu0 = [cpuSeconds(server.child.pid), cpuSeconds(azurite.pid)];
      const fixedWakes0 = wakes(server.child.pid);
      const fixed = await openLoop(server.url, payloads, 200, undefined, fixedRateSeconds);
      const fixedWakes = (wakes(server.child.pid) - fixedWakes0) / (200 * fixedRateSeconds);
      if (Number.isFinite(fixedWakes)) row['wakes@200/s server'] = fixedWakes;
      // CPU per delivery at the fixed rate: what the intake costs when rounds are small.
      const [fixedServer, fixedStorage] = cpuPerDelivery([server.child.pid, azurite.pid], fixedCpu0, 200 * fixedRateSeconds);
      if (Number.isFinite(fixedServer)) row['cpu-ms@200/s server'] = fixedServer as number;
      if (Number.isFinite(fixedStorage)) row['cpu-ms@200/s storage'] = fixedStorage as number;
      row['p50@200/s'] = fixed.p50;
      row['p99@200/s'] = fixed.p99;
      for (const c of [1, 16, 64]) {
        const cpuBefore = [cpuSeconds(server.child.pid), cpuSeconds(azurite.pid)];
        const r = await closedLoop(server.url, payloads, c);
        if (c === 64) {
          // CPU per delivery answered: where the 64-concurrent step's time goes (Linux only).
          const [serverCpu, storageCpu] = cpuPerDelivery([server.child.pid, azurite.pid], cpuBefore, r.count);
          if (Number.isFinite(serverCpu)) row['cpu-ms/delivery server'] = serverCpu as number;
          if (Number.isFinite(storageCpu)) row['cpu-ms/delivery storage'] = storageCpu as number;
        }
        row[`rate@${c}`] = r.rate;
        row[`p50@${c}`] = r.p50;
        row[`p99@${c}`] = r.p99;
        row.errors = (row.errors ?? 0) + r.errors;
      }
      if (kind === 'zekt') {
        server.child.kill('SIGKILL');
        // A fresh storage account: the backlog of the throughput steps must not delay this one.
        const fresh = await startAzurite();
        cleanups.push(() => fresh.stop());
        const routed = await startServer('zekt-routed', {
          BENCH_STORAGE: fresh.connectionString(),
          BENCH_WEBHOOK_SECRET: secret,
          BENCH_FORWARD_SECRET: forwardSecret,
          BENCH_TENANT_URL: tenant.url,
        });
        server.child = routed.child;
        server.url = routed.url;
        tenant.arrivals.clear();
        const sent = new Map<string, number>();
        await openLoop(server.url, payloads, 50, (id, at) => sent.set(id, at), fixedRateSeconds);
        const arrived = async () => {
          const deadline = Date.now() + 30_000;
          while (Date.now() < deadline && [...sent.keys()].some((id) => !tenant.arrivals.has(id))) await new Promise((r) => setTimeout(r, 100));
        };
        await arrived();
        const lat = [...sent].filter(([id]) => tenant.arrivals.has(id)).map(([id, at]) => (tenant.arrivals.get(id) as number) - at).sort((a, b) => a - b);
        endToEnd.push({ p50: percentile(lat, 50), p99: percentile(lat, 99) });
        // The routed path's cost at the fixed 200/s: intake, router and forward, until every delivery arrived.
        sent.clear();
        const routedCpu0 = [cpuSeconds(routed.child.pid), cpuSeconds(fresh.pid)];
        const routedWakes0 = wakes(routed.child.pid);
        await openLoop(server.url, payloads, 200, (id, at) => sent.set(id, at), fixedRateSeconds);
        await arrived();
        const routedWakes = (wakes(routed.child.pid) - routedWakes0) / sent.size;
        if (Number.isFinite(routedWakes)) row['wakes@200/s routed server'] = routedWakes;
        const [routedServer, routedStorage] = cpuPerDelivery([routed.child.pid, fresh.pid], routedCpu0, sent.size);
        if (Number.isFinite(routedServer)) row['cpu-ms@200/s routed server'] = routedServer as number;
        if (Number.isFinite(routedStorage)) row['cpu-ms@200/s routed storage'] = routedStorage as number;
      }
    } finally {
      server.child.kill('SIGKILL');
      tenant.close();
      for (const c of cleanups) await c();
      await azurite.stop();
    }
    results[kind]?.push(row);
    console.log(`run ${run} ${kind.padEnd(8)} ${Object.entries(row).map(([k, v]) => `${k}=${v.toFixed(k.startsWith('rate') ? 0 : k.startsWith('cpu') ? 3 : k.startsWith('wakes') ? 2 : 1)}`).join(' ')}`);
  }
}

const med = (kind: string, key: string) => median((results[kind] ?? []).map((r) => r[key] as number));
console.log(`\nmedians of ${runs} run(s) (throughput in deliveries/s, latency in ms):`);
console.log('server    | @1 /s | @16 /s | @64 /s | p99@64 | ack p50@200/s | ack p99@200/s');
for (const kind of kinds) {
  console.log(
    `${kind.padEnd(9)} | ${med(kind, 'rate@1').toFixed(0).padStart(5)} | ${med(kind, 'rate@16').toFixed(0).padStart(6)} | ${med(kind, 'rate@64').toFixed(0).padStart(6)} | ${med(kind, 'p99@64').toFixed(1).padStart(6)} | ${med(kind, 'p50@200/s').toFixed(1).padStart(13)} | ${med(kind, 'p99@200/s').toFixed(1).padStart(13)}`,
  );
}
console.log(`\nZekt / baseline throughput at 64 concurrent: ${(med('zekt', 'rate@64') / med('baseline', 'rate@64')).toFixed(2)}x (target >= 5x)`);
console.log(`Zekt ack p99 at 200 deliveries/s: ${med('zekt', 'p99@200/s').toFixed(1)} ms (target < 25 ms)`);
const cpu = (kind: string) => `${med(kind, 'cpu-ms/delivery server').toFixed(3)} ms in the server, ${med(kind, 'cpu-ms/delivery storage').toFixed(3)} ms in Azurite`;
console.log(`CPU per delivery at 64 concurrent: baseline ${cpu('baseline')}; Zekt ${cpu('zekt')}`);
console.log(`CPU per delivery at 200 deliveries/s: Zekt's intake alone ${med('zekt', 'cpu-ms@200/s server').toFixed(3)} ms in the server, ${med('zekt', 'cpu-ms@200/s storage').toFixed(3)} ms in Azurite; intake, router and forward to a tenant ${med('zekt', 'cpu-ms@200/s routed server').toFixed(3)} ms in the server, ${med('zekt', 'cpu-ms@200/s routed storage').toFixed(3)} ms in Azurite`);
// What this machine charges at 200/s for the least any persist-first intake does: the goal of the
// whole path's cost (bench:dispatch) reads against it.
if (kinds.includes('floor')) {
  console.log(
    `The floor at 200 deliveries/s (verify, one insert, 202): ${med('floor', 'cpu-ms@200/s server').toFixed(3)} ms in the server, ${med('floor', 'cpu-ms@200/s storage').toFixed(3)} ms in Azurite${kinds.includes('ceiling') ? `; verifying alone ${med('ceiling', 'cpu-ms@200/s server').toFixed(3)} ms` : ''}`,
  );
}
console.log(
  `Wake-ups of the server's main thread per delivery at 200/s: ${kinds.map((k) => `${k} ${med(k, 'wakes@200/s server').toFixed(2)}`).join(', ')}${kinds.includes('zekt') ? `, Zekt routed ${med('zekt', 'wakes@200/s routed server').toFixed(2)}` : ''}; CPU per delivery at 200/s: ${kinds.map((k) => `${k} ${med(k, 'cpu-ms@200/s server').toFixed(3)} ms`).join(', ')}`,
);
console.log(describeLowRateFactor(await measureLowRateFactor(JSON.stringify(workflowRunPayload()), 200)));
console.log(`Zekt / ceiling throughput at 64 concurrent: ${(med('zekt', 'rate@64') / med('ceiling', 'rate@64')).toFixed(3)}x`);
console.log(`Zekt webhook-in -> tenant-received at 50 deliveries/s: p50 ${median(endToEnd.map((e) => e.p50)).toFixed(1)} ms, p99 ${median(endToEnd.map((e) => e.p99)).toFixed(1)} ms`);
