/**
 * `npm run bench:messages`: the message endpoints as a tenant runtime serves them — the tenant's
 * real function table (createTenantFunctions with messages and orchestration: the installation
 * check from the subscription sync state, the publish policy from the index, the event side's
 * notice after each post) on the local host, its storage on Azurite, tokens from the GitHub
 * double's OIDC issuer. `POST /api/messages` (1 KiB and 64 KiB bodies) and
 * `GET /api/messages/{id}` at a fixed 50 requests a second, every request with its own OIDC token
 * (issued before the clock starts). Prints p50/p99 in milliseconds and the table requests one post
 * makes (counted at Azurite's front); never fails on them.
 *
 * `-- --seconds 3` runs a small version (10 s per figure by default).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startAzurite } from '../local/azurite/start-azurite.ts';
import { startGitHubDouble } from '../local/github-double/start-github-double.ts';
import { createLocalHost } from '../runtime/local-host/create-local-host.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { createTenantFunctions } from '../runtime/tenant/tenant-functions.ts';
import { createSubscriptionSyncState } from '../runtime/tenant/subscriptions/subscription-sync-state.ts';
import { tenantStorageLayout } from '../tenant-stack/tenant-outputs.ts';
import { createLogger } from '../runtime/core/logger.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '50' } } });
const rate = Number(args.rate);
const seconds = Number(args.seconds);

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function atFixedRate(requests: (() => Promise<number>)[]): Promise<{ p50: number; p99: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    requests.map(async (send, i) => {
      const due = start + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const began = performance.now();
      const status = await send();
      latencies.push(performance.now() - began);
      if (status >= 300) failed++;
    }),
  );
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

/** A pass-through in front of Azurite's table endpoint that counts requests. */
async function countingFront(target: URL): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const out = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => count, close: () => new Promise((r) => server.close(() => r())) };
}

const tenantId = 'acme';
const account = { name: 'benchtenant', key: randomBytes(64).toString('base64') };
const azurite = await startAzurite({ accounts: [account] });
const double = await startGitHubDouble();
const direct = azurite.connectionString(account);
const tableUrl = new URL(/TableEndpoint=([^;]+)/.exec(direct)?.[1] ?? '');
const front = await countingFront(tableUrl);
const storage = createStorage({ kind: 'connection-string', connectionString: direct.replace(/TableEndpoint=[^;]+/, `TableEndpoint=${front.url}/${account.name}`) });
await storage.ensure(tenantStorageLayout);
const log = createLogger({ level: 'silent' });
const provider = double.addRepository({ fullName: 'acme/provider', ownerType: 'Organization' });
const consumer = double.addRepository({ fullName: 'acme/consumer', ownerType: 'Organization' });
const installation = double.addInstallation({ account: 'acme', repositories: ['provider', 'consumer'] });
// Subscription sync has seen both repositories in the tenant's installation.
const sync = createSubscriptionSyncState(storage.table(tenantStorageLayout.tables[3]));
for (const [repository, fullName] of [[provider, 'acme/provider'], [consumer, 'acme/consumer']] as const) {
  await sync.recordFile({ repository: { id: repository.id, fullName }, installationId: installation.id, lastSyncAt: new Date().toISOString(), outcome: 'absent', errors: [] });
}
const where = { url: '' };
const delivered = new Set<string>();
const key = randomBytes(32).toString('base64');
const host = await createLocalHost({
  table: createTenantFunctions({
    tenantId,
    storage,
    log,
    version: 'bench',
    forwardSecrets: async () => ({ current: `whsec_${randomBytes(24).toString('base64')}` }),
    dispatch: { apiUrl: double.apiUrl, retrySchedule: [1], timeoutMs: 5000, budgetPerMinute: 80, budgetPerHour: 500, confirmAfterSeconds: 600 },
    messages: {
      oidcIssuer: double.oidcIssuer,
      messageKeys: async () => ({ current: key }),
      settings: { maxBytes: 64 * 1024, maxDepth: 32, ttlSeconds: 7 * 86400 },
      messagesUrl: () => `${where.url}/api/messages`,
      // The fetch figure is of the message endpoint; which deliveries exist is orchestration's (bench:dispatch).
      wasDelivered: async (id, repositoryId) => delivered.has(`${id}:${repositoryId}`),
    },
  }).filter((f) => f.kind === 'http'),
  log,
  timers: false,
});
where.url = host.url;
const messagesUrl = `${host.url}/api/messages`;
const token = (repository: string, runId: number) => double.issueOidcToken({ repository, audience: `zekt:${tenantId}`, runId, runAttempt: 1 });
// Figures depend on what else the machine runs: say how busy it was.
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs; ${rate}/s for ${seconds} s per figure`);
try {
  // Warm-up: the issuer's keys, the message key, the first table connections.
  for (let i = 0; i < 5; i++) {
    await fetch(messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${await token('acme/provider', 1 + i)}` }, body: '{"warm":true}' }).then((r) => r.arrayBuffer());
  }
  const before = front.count();
  await fetch(messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${await token('acme/provider', 99)}` }, body: '{"counted":true}' }).then((r) => r.arrayBuffer());
  console.log(`table requests per post: ${front.count() - before}`);
  // One at a time: what a post costs with nothing queued in front of it.
  const serial: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = await token('acme/provider', 50_000 + i);
    const began = performance.now();
    await fetch(messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${t}` }, body: JSON.stringify({ data: 'x'.repeat(1013) }) }).then((r) => r.arrayBuffer());
    serial.push(performance.now() - began);
  }
  serial.sort((a, b) => a - b);
  console.log(`POST /api/messages 1 KiB one at a time: p50 ${percentile(serial, 50).toFixed(1)} ms  p99 ${percentile(serial, 99).toFixed(1)} ms  (20 requests)`);
  const count = rate * seconds;
  const ids: string[] = [];
  for (const [label, size] of [['1 KiB', 1024], ['64 KiB', 64 * 1024 - 16]] as const) {
    const body = JSON.stringify({ data: 'x'.repeat(size - 11) });
    const tokens = await Promise.all(Array.from({ length: count }, (_, i) => token('acme/provider', 100_000 + i + (size > 2048 ? count : 0))));
    const cpu = { self: cpuSeconds(process.pid), azurite: cpuSeconds(azurite.pid) };
    const figures = await atFixedRate(
      tokens.map((t) => async () => {
        const response = await fetch(messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${t}` }, body });
        const { id } = (await response.json()) as { id: string };
        if (size === 1024 && id) ids.push(id);
        return response.status;
      }),
    );
    const perPost = (now: number, then: number) => (((now - then) * 1000) / count).toFixed(2);
    console.log(`POST /api/messages ${label.padEnd(7)} at ${rate}/s: p50 ${figures.p50.toFixed(1)} ms  p99 ${figures.p99.toFixed(1)} ms  (${count} requests, ${figures.failed} failed)`);
    console.log(`  CPU per post: ${perPost(cpuSeconds(process.pid), cpu.self)} ms in this process (endpoints, double, client), ${perPost(cpuSeconds(azurite.pid), cpu.azurite)} ms in Azurite`);
  }
  for (const id of ids) delivered.add(`${id}:${consumer.id}`);
  const tokens = await Promise.all(ids.map((_, i) => token('acme/consumer', 200_000 + i)));
  const figures = await atFixedRate(
    ids.map((id, i) => async () => {
      const response = await fetch(`${messagesUrl}/${id}`, { headers: { authorization: `Bearer ${tokens[i] as string}` } });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  console.log(`GET  /api/messages/{id} 1 KiB at ${rate}/s: p50 ${figures.p50.toFixed(1)} ms  p99 ${figures.p99.toFixed(1)} ms  (${ids.length} requests, ${figures.failed} failed)`);
} finally {
  await host.close();
  await front.close();
  await double.close();
  await azurite.stop();
}
