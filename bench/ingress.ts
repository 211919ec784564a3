/**
 * `npm run bench:ingress`: the ceiling, the floor, the baseline and Zekt's ingress side by side, on the same
 * machine and the same real payloads (workflow_run ~17 KB, workflow_job ~10 KB, one padded to
 * 25 KB), each at 1, 16 and 64 concurrent requests and at a fixed 200 deliveries/s; plus Zekt's
 * webhook-in → tenant-received latency at 50 deliveries/s. Each server runs in its own process
 * with a fresh Azurite. Figures are medians over BENCH_RUNS runs (3 by default). Prints figures;
 * never fails on them.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAzurite } from '../local/azurite/start-azurite.ts';
import { workflowRunPayload } from '../tests/fixtures/index.ts';
import { platformNodeArguments } from '../runtime/platform/node-arguments.ts';
import { describeLowRateFactor, measureLowRateFactor } from './support/low-rate-factor.ts';
import { closedLoop, cpuPerDelivery, median, openLoop, percentile, signedBodies, startServer, wakes } from './support/webhook-load.ts';
import { cpuSeconds } from './process-cpu.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
/** The fixed-rate steps run longer: a p99 needs enough samples (2,000 at 200/s). */
const fixedRateSeconds = Number(process.env.BENCH_FIXED_SECONDS ?? 10);
const secret = randomBytes(20).toString('hex');
const forwardSecret = `whsec_${randomBytes(24).toString('base64')}`;

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
const payloads = await signedBodies(secret);
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
      await openLoop(server.url, payloads, 100, 2);
      // The fixed rate first, on fresh storage: the closed-loop bursts after it leave tens of
      // thousands of rows and a backlog that would put their after-effects into its tail.
      const fixedCpu0 = [cpuSeconds(server.child.pid), cpuSeconds(azurite.pid)];
      const fixedWakes0 = wakes(server.child.pid);
      const fixed = await openLoop(server.url, payloads, 200, fixedRateSeconds);
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
        const r = await closedLoop(server.url, payloads, c, seconds);
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
        await openLoop(server.url, payloads, 50, fixedRateSeconds, (id, at) => sent.set(id, at));
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
        await openLoop(server.url, payloads, 200, fixedRateSeconds, (id, at) => sent.set(id, at));
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
