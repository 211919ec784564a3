/**
 * An ingress under test: its own Azurite, the platform's storage layout, the platform's ingress
 * functions on a real local host, and a tenant runtime (its webhook intake on its own local host,
 * its own storage account) that counts what it receives. Webhooks are signed the way GitHub signs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import type { HttpHandler } from '@azure/functions';
import type { AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { isolatedAzurite } from '../support/azurite.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';
import { platformStorageResources } from '../../runtime/platform/platform-storage-layout.ts';
import { cachedSecretStore, platformSecretNames } from '../../runtime/core/secret-store.ts';
import { createIngress, type Ingress } from '../../runtime/ingress/create-ingress.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createTenantWebhookHandlers } from '../../runtime/tenant/receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from '../../runtime/tenant/workflow-event-store.ts';
import type { IngressConfig } from '../../runtime/config.ts';
import type { FunctionTable, QueueFunction } from '../../runtime/functions/function-table.ts';
import { createInvocationContext } from '../../runtime/local-host/invocation-context.ts';
import { createLogger } from '../../runtime/core/logger.ts';
import { memoryLogger } from '../support/logs.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';

export const webhookSecret = () => randomBytes(20).toString('hex');
export const forwardSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export interface TenantUnderTest {
  readonly tenantId: string;
  readonly host: LocalHost;
  readonly webhookUrl: string;
  readonly storage: Storage;
  /** Every delivery the tenant's intake answered (a batch's one by one), in order. */
  readonly received: { id: string; status: number }[];
  /** The batch requests it answered, each with the ids it carried. */
  readonly batches: string[][];
  /** Answer these statuses first (one per request, a batch's to each of its deliveries), then behave normally. */
  failWith: { status: number; headers?: Record<string, string> }[];
  readonly events: ReturnType<typeof createWorkflowEventStore>;
  close(): Promise<void>;
}

export interface IngressHarness {
  readonly azurite: AzuriteInstance;
  readonly storage: Storage;
  readonly ingress: Ingress;
  readonly host: LocalHost;
  readonly url: string;
  readonly secrets: Map<string, string>;
  readonly lines: Record<string, unknown>[];
  readonly tenants: Map<string, TenantUnderTest>;
  /** Signs and posts a delivery as GitHub would; returns the response. */
  send(event: string, payload: unknown, options?: { deliveryId?: string; secret?: string; headers?: Record<string, string | undefined>; rawBody?: string }): Promise<Response>;
  addTenant(tenantId: string): Promise<TenantUnderTest>;
  close(): Promise<void>;
}

export const defaultIngressConfig: IngressConfig = {
  maxBodyBytes: 25 * 1024 * 1024,
  inlineBodyBytes: 48 * 1024,
  forwardRetrySchedule: [1, 1, 1],
  forwardTimeoutMs: 2000,
  deliveryRetentionDays: 30,
  redeliveryMaxPerRun: 25,
};

export interface HarnessOptions {
  readonly fetch?: typeof fetch;
  /**
   * Run the router (on by default): its queue function, and the intake's hand-over to it in this
   * process. Off, every round is announced and the announcements stay in the queue for inspection.
   */
  readonly router?: boolean;
  /** Only the hand-over (on by default): off, the intake announces every round on the queue, which the router polls. */
  readonly routeInProcess?: boolean;
  readonly forwardSecretFallback?: (tenantId: string) => Promise<string | undefined>;
}

export async function startIngressHarness(config: Partial<IngressConfig> = {}, extra: HarnessOptions = {}): Promise<IngressHarness> {
  const azurite = await isolatedAzurite();
  const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
  await storage.ensure(platformStorageResources);
  const secrets = new Map<string, string>([[platformSecretNames.webhookSecret, webhookSecret()]]);
  const { log, lines } = memoryLogger();
  const tenants = new Map<string, TenantUnderTest>();
  const ingress = createIngress({
    storage,
    // The vault is not under test here: a map read through the same SecretStore interface.
    secrets: cachedSecretStore(async (name) => secrets.get(name), 0),
    tenantWebhookUrl: async (tenantId) => tenants.get(tenantId)?.webhookUrl,
    config: { ...defaultIngressConfig, ...config },
    log,
    routeInProcess: extra.router !== false && extra.routeInProcess !== false,
    ...(extra.fetch ? { fetch: extra.fetch } : {}),
    ...(extra.forwardSecretFallback ? { forwardSecretFallback: extra.forwardSecretFallback } : {}),
  });
  const host = await createLocalHost({
    table: extra.router === false ? ingress.functions.filter((f) => f.kind !== 'queue') : ingress.functions,
    storage,
    log,
    timers: false,
    queue: { minPollMs: 20, maxPollMs: 200, visibilityTimeoutSeconds: 30 },
  });

  const harness: IngressHarness = {
    azurite,
    storage,
    ingress,
    host,
    url: `${host.url}/api/github/webhooks`,
    secrets,
    lines,
    tenants,
    async send(event, payload, options = {}) {
      const body = options.rawBody ?? JSON.stringify(payload);
      const secret = options.secret ?? (secrets.get(platformSecretNames.webhookSecret) as string);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': options.deliveryId ?? randomUUID(),
        'x-hub-signature-256': await sign(secret, body),
        'user-agent': 'GitHub-Hookshot/test',
      };
      for (const [k, v] of Object.entries(options.headers ?? {})) {
        if (v === undefined) delete headers[k];
        else headers[k] = v;
      }
      return fetch(harness.url, { method: 'POST', headers, body });
    },
    async addTenant(tenantId) {
      const tenantStorage = storage; // same Azurite, the tenant's own tables
      const eventsTable = tenantStorage.table(`ev${tenantId.replace(/-/g, '')}`);
      const seenTable = tenantStorage.table(`seen${tenantId.replace(/-/g, '')}`);
      await Promise.all([eventsTable.createTable(), seenTable.createTable()]);
      const secret = forwardSecret();
      secrets.set(platformSecretNames.tenantForwardSecret(tenantId), secret);
      const events = createWorkflowEventStore(eventsTable);
      // The tenant knows the secret the platform had when the tenant was added (rotation tests move the platform on).
      const intake = createTenantWebhookHandlers({ tenantId, secrets: async () => ({ current: secret }), events, seen: seenTable, maxBodyBytes: 25 * 1024 * 1024, log });
      const received: { id: string; status: number }[] = [];
      const batches: string[][] = [];
      const failWith: TenantUnderTest['failWith'] = [];
      const door = (name: string, route: string, handler: HttpHandler): FunctionTable[number] => ({ kind: 'http', name, route, methods: ['POST'], authLevel: 'anonymous', maxBodyBytes: 26 * 1024 * 1024, handler });
      /** The next scripted failure, if any: recorded for `ids` and answered instead of the intake. */
      const scripted = (ids: readonly string[]) => {
        const next = failWith.shift();
        if (!next) return undefined;
        for (const id of ids) received.push({ id, status: next.status });
        return { status: next.status, ...(next.headers ? { headers: next.headers } : {}), jsonBody: { error: 'scripted failure' } };
      };
      const table: FunctionTable = [
        door('webhooks', 'webhooks', async (request, context) => {
          const id = request.headers.get('webhook-id') ?? '';
          const failure = scripted([id]);
          if (failure) return failure;
          const response = await intake.single(request, context);
          received.push({ id, status: response.status ?? 200 });
          return response;
        }),
        door('webhookBatches', 'webhooks/batch', async (request, context) => {
          const ids = (((await request.clone().json()) as { deliveries?: { id?: string }[] }).deliveries ?? []).map((d) => String(d.id));
          batches.push(ids);
          const failure = scripted(ids);
          if (failure) return failure;
          const response = await intake.batch(request, context);
          const results = (response as { jsonBody?: { results?: { id: string; status: number }[] } }).jsonBody?.results;
          for (const r of results ?? ids.map((id) => ({ id, status: response.status ?? 200 }))) received.push({ id: r.id, status: r.status });
          return response;
        }),
      ];
      const tenantHost = await createLocalHost({ table, log });
      const tenant: TenantUnderTest = {
        tenantId,
        storage: tenantStorage,
        received,
        batches,
        failWith,
        events,
        host: tenantHost,
        webhookUrl: `${tenantHost.url}/api/webhooks`,
        close: () => tenantHost.close(),
      };
      tenants.set(tenantId, tenant);
      return tenant;
    },
    async close() {
      for (const t of tenants.values()) await t.close();
      await host.close();
      await azurite.stop();
    },
  };
  return harness;
}

/**
 * A harness whose own router is off, with the tenant `acme` bound to installation 4242: each test
 * builds the router (and intake) it looks at on the harness's storage.
 */
export async function startRouterlessHarness(): Promise<IngressHarness> {
  const h = await startIngressHarness({}, { router: false });
  await h.addTenant('acme');
  await h.ingress.installations.bind(4242, 'acme', {}, new Date());
  return h;
}

/** Waits until `check` passes, draining the router's queue between tries. */
export async function eventually<T>(harness: IngressHarness, check: () => Promise<T>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await harness.host.drainQueues();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Rows and messages in the platform's ingress storage (for "changed nothing" checks). */
export async function storedCounts(harness: IngressHarness): Promise<{ rows: number; messages: number; blobs: number }> {
  let rows = 0;
  for await (const _ of harness.storage.table('deliveries').listEntities()) rows++;
  const props = await harness.storage.queue('ingress-deliveries').getProperties();
  let blobs = 0;
  for await (const _ of harness.storage.container('webhook-payloads').listBlobsFlat()) blobs++;
  return { rows, messages: props.approximateMessagesCount ?? 0, blobs };
}

/** The harness's router function, called by hand (a harness started with `{ router: false }` polls none). */
export function routerByHand(h: IngressHarness): (message: unknown) => Promise<unknown> {
  const fn = h.ingress.functions.find((f): f is QueueFunction => f.kind === 'queue' && f.name === 'routeDeliveries');
  if (!fn) throw new Error('no router function');
  return (message) => Promise.resolve(fn.handler(message, createInvocationContext(fn.name, createLogger({ level: 'silent' }))));
}

/** A `workflow_run.completed` delivery's row as the intake builds it, before it is stored (tests that drive the committer and router by hand). */
export function receivedRunRecord(deliveryId: string, bodyBytes: number, installationId = 4242): DeliveryRecord {
  const at = new Date().toISOString();
  return {
    deliveryId, partition: deliveryPartition(deliveryId), event: 'workflow_run', action: 'completed', installationId,
    signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes,
  };
}
