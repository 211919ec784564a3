import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { sign } from '@octokit/webhooks-methods';
import { startAzurite, type AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { platformStorageResources } from '../../runtime/platform/platform-storage-layout.ts';
import { cachedSecretStore } from '../../runtime/core/secret-store.ts';
import { createIngress } from '../../runtime/ingress/create-ingress.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createTenantWebhookHandler } from '../../runtime/tenant/receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from '../../runtime/tenant/workflow-event-store.ts';
import { workflowRunPayload, workflowJobPayload } from '../fixtures/index.ts';
import { memoryLogger } from '../support/logs.ts';
import { defaultIngressConfig, forwardSecret, webhookSecret } from './support.ts';

function startIngressProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/ingress/ingress-process.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`ingress process exited early (${code})`)));
  });
}

describe('ingress: durability under a crash', () => {
  let azurite: AzuriteInstance;
  let tenantHost: LocalHost;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await tenantHost?.close();
    await azurite?.stop();
  });

  it('routes every delivery answered 202 before a SIGKILL, and processes none twice', async function () {
    this.timeout(120_000);
    azurite = await startAzurite();
    const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
    await storage.ensure(platformStorageResources);
    const secret = webhookSecret();
    const fwd = forwardSecret();
    const { log } = memoryLogger('warn');

    // The tenant: the real intake, counting every forward and every first-time processing.
    const eventsTable = storage.table('tenantevents');
    const seen = storage.table('tenantseen');
    await Promise.all([eventsTable.createTable(), seen.createTable()]);
    const intake = createTenantWebhookHandler({ tenantId: 'acme', secrets: async () => ({ current: fwd }), events: createWorkflowEventStore(eventsTable), seen, maxBodyBytes: 1 << 24, log });
    const forwards = new Map<string, number>();
    const firstForwardAt = new Map<string, number>();
    const processed = new Map<string, number>();
    tenantHost = await createLocalHost({
      log,
      table: [
        {
          kind: 'http', name: 'webhooks', route: 'webhooks', methods: ['POST'], authLevel: 'anonymous', maxBodyBytes: 1 << 24,
          handler: async (request, context) => {
            const id = request.headers.get('webhook-id') ?? '';
            forwards.set(id, (forwards.get(id) ?? 0) + 1);
            if (!firstForwardAt.has(id)) firstForwardAt.set(id, Date.now());
            const response = await intake(request, context);
            if (response.status === 200 && !((response as { jsonBody?: { duplicate?: boolean } }).jsonBody?.duplicate)) processed.set(id, (processed.get(id) ?? 0) + 1);
            return response;
          },
        },
      ],
    });
    // The platform side of the binding, done once through the library.
    const admin = createIngress({ storage, secrets: cachedSecretStore(async () => undefined, 0), tenantWebhookUrl: async () => undefined, config: defaultIngressConfig, log });
    await admin.installations.bind(4242, 'acme', {}, new Date());

    const env = { CRASH_STORAGE: azurite.connectionString(), CRASH_WEBHOOK_SECRET: secret, CRASH_FORWARD_SECRET: fwd, CRASH_TENANT_URL: `${tenantHost.url}/api/webhooks` };
    const first = await startIngressProcess(env);
    children.push(first.child);

    // A burst at 16 concurrent; the process is killed once 60 deliveries were acknowledged.
    const acked = new Set<string>();
    const bodies = [JSON.stringify(workflowRunPayload()), JSON.stringify(workflowJobPayload())];
    let killed = false;
    const sendOne = async (i: number) => {
      const body = bodies[i % 2] as string;
      const id = randomUUID();
      try {
        const res = await fetch(`${first.url}/api/github/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-github-event': i % 2 ? 'workflow_job' : 'workflow_run', 'x-github-delivery': id, 'x-hub-signature-256': await sign(secret, body) },
          body,
        });
        if (res.status === 202) acked.add(id);
        if (acked.size >= 60 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      } catch {
        // Connection cut by the kill: GitHub would count this delivery as failed, and so do we.
      }
    };
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < 400 && !killed) await sendOne(next++);
    }));
    expect(killed).to.equal(true);

    // Every acknowledged delivery is in storage.
    for (const id of acked) expect((await admin.deliveries.get(id)).deliveryId).to.equal(id);

    const restartedAt = Date.now();
    const second = await startIngressProcess(env);
    children.push(second.child);
    const deadline = Date.now() + 60_000;
    const allDelivered = async () => {
      for (const id of acked) if ((await admin.deliveries.get(id)).status !== 'delivered') return false;
      return true;
    };
    // The tenant processes a forward a moment before the router records it as delivered.
    while (Date.now() < deadline && ([...acked].some((id) => !processed.has(id)) || !(await allDelivered()))) {
      await admin.sweep(5_000); // announcements lost with the process are made again
      await new Promise((r) => setTimeout(r, 500));
    }
    const missing = [...acked].filter((id) => !processed.has(id));
    expect(missing, 'acknowledged but never routed').to.deep.equal([]);
    expect([...processed.values()].every((n) => n === 1), 'processed twice').to.equal(true);
    for (const id of acked) expect((await admin.deliveries.get(id)).status).to.equal('delivered');
    // A forward in flight when the process died may be sent once more by the new process (its
    // claim expired), and a forward the router counted as failed (a timeout on a loaded machine)
    // is retried; the tenant dedupes both. Any other repeat is two routers holding one claim.
    const repeated = [...forwards].filter(([, n]) => n > 1);
    for (const [id, n] of repeated) {
      expect(n, `${id} forwarded ${n} times`).to.equal(2);
      const retried = (await admin.deliveries.get(id)).attempts > 1;
      if (!retried) expect(firstForwardAt.get(id) as number, `${id} was forwarded twice after the restart without a failed attempt`).to.be.below(restartedAt);
    }
    second.child.kill('SIGTERM');
  });
});
