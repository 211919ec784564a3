/**
 * One of the servers `npm run bench:ingress` compares, in its own process:
 * - `ceiling`: verify the signature with `@octokit/webhooks`, answer 202 (nothing stored);
 * - `floor`: verify, one table insert of the delivery (its body deflated inline, as Zekt stores
 *   it), 202: the least a persist-first intake does per delivery, one write per request;
 * - `baseline`: verify, then per delivery one table upsert, one blob upload, one queue message, 202;
 * - `zekt`: the platform's real intake function (persist-first, group commit, dedupe);
 * - `zekt-routed`: the same with the router in the process, forwarding to a tenant (end-to-end).
 * Prints `listening <url>` when ready.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { Webhooks } from '@octokit/webhooks';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { cachedSecretStore, platformSecretNames } from '../runtime/core/secret-store.ts';
import { createIngress } from '../runtime/ingress/create-ingress.ts';
import { createLocalHost } from '../runtime/local-host/create-local-host.ts';
import { createLogger } from '../runtime/core/logger.ts';
import { loadConfig } from '../runtime/config.ts';

const kind = process.argv[2];
const env = process.env;
const secret = env.BENCH_WEBHOOK_SECRET as string;
const log = createLogger({ level: 'silent' });

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listen(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): Promise<string> {
  const server = http.createServer((req, res) => {
    handler(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
}

let url: string;
if (kind === 'ceiling') {
  const webhooks = new Webhooks({ secret });
  url = await listen(async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    if (!(await webhooks.verify(body, String(req.headers['x-hub-signature-256'])))) return void res.writeHead(401).end();
    res.writeHead(202).end();
  });
} else if (kind === 'floor') {
  const webhooks = new Webhooks({ secret });
  const storage = createStorage({ kind: 'connection-string', connectionString: env.BENCH_STORAGE as string });
  await storage.ensure({ tables: ['floor'], queues: [], containers: [] });
  const table = storage.table('floor');
  url = await listen(async (req, res) => {
    const raw = await readBody(req);
    if (!(await webhooks.verify(raw.toString('utf8'), String(req.headers['x-hub-signature-256'])))) return void res.writeHead(401).end();
    await table.createEntity({ partitionKey: 'd', rowKey: String(req.headers['x-github-delivery']), event: String(req.headers['x-github-event']), body: deflateRawSync(raw, { level: 1 }) });
    res.writeHead(202).end();
  });
} else if (kind === 'baseline') {
  const webhooks = new Webhooks({ secret });
  const storage = createStorage({ kind: 'connection-string', connectionString: env.BENCH_STORAGE as string });
  await storage.ensure({ tables: ['baseline'], queues: ['baseline'], containers: ['baseline'] });
  const table = storage.table('baseline');
  const queue = storage.queue('baseline');
  const container = storage.container('baseline');
  url = await listen(async (req, res) => {
    const raw = await readBody(req);
    const body = raw.toString('utf8');
    if (!(await webhooks.verify(body, String(req.headers['x-hub-signature-256'])))) return void res.writeHead(401).end();
    const payload = JSON.parse(body) as { action?: string };
    const id = String(req.headers['x-github-delivery']);
    await table.upsertEntity({ partitionKey: 'd', rowKey: id, event: String(req.headers['x-github-event']), action: payload.action ?? '' });
    await container.uploadBlockBlob(`${id}.json`, raw, raw.length);
    await queue.sendMessage(Buffer.from(JSON.stringify({ id })).toString('base64'));
    res.writeHead(202).end();
  });
} else if (kind === 'zekt' || kind === 'zekt-routed') {
  const config = loadConfig({ ZEKT_STORAGE_CONNECTION_STRING: env.BENCH_STORAGE });
  const storage = createStorage(config.storage);
  const { platformStorageResources } = await import('../runtime/platform/platform-storage-layout.ts');
  await storage.ensure(platformStorageResources);
  const secrets = new Map([
    [platformSecretNames.webhookSecret, secret],
    [platformSecretNames.tenantForwardSecret('bench'), env.BENCH_FORWARD_SECRET as string],
  ]);
  const ingress = createIngress({
    storage,
    secrets: cachedSecretStore(async (name) => secrets.get(name), 60_000),
    tenantWebhookUrl: async () => env.BENCH_TENANT_URL,
    config: config.ingress,
    // `zekt`: the intake alone, so every round is announced (no router here takes it).
    routeInProcess: kind === 'zekt-routed',
    log,
  });
  await ingress.installations.bind(4242, 'bench', {}, new Date());
  // `zekt` measures the intake alone: on Azure the router is a queue-triggered function that
  // scales on its own instances. `zekt-routed` runs both in one process (end-to-end latency).
  const table = kind === 'zekt' ? ingress.functions.filter((f) => f.kind !== 'queue') : ingress.functions;
  const host = await createLocalHost({ table, storage, log, timers: false, queue: { minPollMs: 10, maxPollMs: 50 } });
  url = `${host.url}/api/github/webhooks`;
} else {
  throw new Error(`unknown server kind ${kind}`);
}
console.log(`listening ${url}`);
process.on('SIGINT', () => process.exit(0));
