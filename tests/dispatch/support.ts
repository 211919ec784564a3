/**
 * A world for orchestration tests: one Azurite with a platform account and an account per tenant
 * (keys made at run time), the GitHub API double, the platform's real ingress and token broker on
 * one local host (the double's webhooks go through the ingress and its router, the broker mints
 * down-scoped tokens from the double), and tenant runtimes — the real tenant function table on
 * their own local hosts and storage accounts. A fault front (node:http) can stand between a tenant
 * and the double to answer scripted statuses before it proxies.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { startAzurite, type AzuriteInstance, type StorageAccount } from '../../local/azurite/start-azurite.ts';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';
import { platformStorageLayout, platformStorageResources } from '../../runtime/platform/platform-storage-layout.ts';
import { cachedSecretStore, platformSecretNames } from '../../runtime/core/secret-store.ts';
import { createIngress, type Ingress } from '../../runtime/ingress/create-ingress.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createTokenBroker } from '../../runtime/identity/token-broker.ts';
import { createBrokerHandler } from '../../runtime/identity/broker-handler.ts';
import { CallerNotAuthenticatedError } from '../../runtime/identity/identity-errors.ts';
import { createBrokerClient } from '../../runtime/tenant/broker-client.ts';
import { createTenantFunctions } from '../../runtime/tenant/tenant-functions.ts';
import { createOrchestration, type Orchestration, type OrchestrationDeps } from '../../runtime/tenant/dispatch/create-orchestration.ts';
import { createSubscriptionIndex, type Subscription } from '../../runtime/tenant/subscriptions/subscription-index.ts';
import { issueTenantApiCredential } from '../../runtime/tenant/tenant-api-credential.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import type { WorkflowRunInput } from '../../local/github-double/payload-builders.ts';
import { memoryLogger } from '../support/logs.ts';
import { defaultIngressConfig } from '../ingress/support.ts';

const account = (name: string): StorageAccount => ({ name, key: randomBytes(64).toString('base64') });
const forwardSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export interface FaultFront {
  readonly url: string;
  /**
   * Answers for the next dispatch requests, in order; then every request is proxied. An entry with
   * `proxy: true` proxies that request after `delayMs` (a dispatch held in flight).
   */
  readonly script: { status: number; headers?: Record<string, string>; body?: unknown; proxy?: boolean; delayMs?: number }[];
  /** Every dispatch request that reached the front, with the status it got. */
  readonly seen: { at: number; status: number }[];
  close(): Promise<void>;
}

/** A node:http front for the double: scripted answers to dispatches first, then a plain proxy. */
export async function startFaultFront(target: string): Promise<FaultFront> {
  const script: FaultFront['script'] = [];
  const seen: FaultFront['seen'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isDispatch = req.method === 'POST' && /\/dispatches$/.test(req.url ?? '');
      const scripted = isDispatch ? script.shift() : undefined;
      if (scripted && !scripted.proxy) {
        seen.push({ at: Date.now(), status: scripted.status });
        res.writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers });
        res.end(JSON.stringify(scripted.body ?? { message: 'scripted failure' }));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
      const held = new Promise((resolve) => setTimeout(resolve, scripted?.delayMs ?? 0));
      held.then(() => fetch(`${target}${req.url ?? ''}`, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) })).then(
        async (answer) => {
          if (isDispatch) seen.push({ at: Date.now(), status: answer.status });
          const body = Buffer.from(await answer.arrayBuffer());
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
          });
          res.writeHead(answer.status, out);
          res.end(body);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TenantUnderTest {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly forwardSecret: string;
  readonly orchestration: Orchestration;
  readonly host: LocalHost;
  readonly url: string;
  /** A fresh tenant API credential, as the platform would issue it. */
  credential(): Promise<string>;
  subscribe(consumer: { id: number; fullName: string }, entries: Omit<Subscription, 'consumer'>[]): Promise<void>;
  /** Another runtime instance on the same storage (its own process state, only the queue and timer functions). */
  addInstance(options?: { apiUrl?: string }): Promise<{ orchestration: Orchestration; host: LocalHost }>;
  drain(): Promise<void>;
}

export interface TenantOptions {
  /** Where the tenant dispatches to (a fault front); the double by default. */
  readonly apiUrl?: string;
  readonly orchestration?: Partial<Pick<OrchestrationDeps, 'budgetWindows' | 'messagesOfRun' | 'staleMs' | 'now' | 'maxRunsInFlight'>> & { config?: Partial<OrchestrationDeps['config']> };
  /** Messages each of the tenant's hosts takes per poll (16, as Functions, by default). */
  readonly queueBatchSize?: number;
}

export interface DispatchWorld {
  readonly double: GitHubDouble;
  /** Azurite's process id (the benchmark reads its CPU time). */
  readonly azuritePid: number;
  readonly ingress: Ingress;
  readonly lines: Record<string, unknown>[];
  addTenant(tenantId: string, options?: TenantOptions): Promise<TenantUnderTest>;
  /** Installs the App on an account's repositories and binds it to a tenant; answers the repository refs by name. */
  install(tenantId: string, accountLogin: string, repositories: string[]): Promise<Record<string, { id: number; fullName: string }>>;
  /** Sends a workflow_run webhook through the ingress. */
  run(input: WorkflowRunInput): Promise<void>;
  close(): Promise<void>;
}

export async function startDispatchWorld(): Promise<DispatchWorld> {
  const accounts = [account('zektplatform'), account('tenanta'), account('tenantb'), account('tenantc')];
  const azurite: AzuriteInstance = await startAzurite({ accounts });
  const { log, lines } = memoryLogger('info');
  const double = await startGitHubDouble();
  const platformStorage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString(accounts[0]) });
  await platformStorage.ensure(platformStorageResources);
  const secrets = new Map<string, string>([[platformSecretNames.webhookSecret, double.app.webhookSecret]]);
  const tenants = new Map<string, TenantUnderTest & { close(): Promise<void> }>();
  const ingress = createIngress({
    storage: platformStorage,
    secrets: cachedSecretStore(async (name) => secrets.get(name), 0),
    tenantWebhookUrl: async (tenantId) => (tenants.has(tenantId) ? `${tenants.get(tenantId)?.url}/api/webhooks` : undefined),
    config: { ...defaultIngressConfig, forwardRetrySchedule: [1, 1, 1] },
    log,
  });
  const broker = createTokenBroker({
    appAuth: async () => createAppAuth({ appId: double.app.id, privateKey: double.app.privateKey, request: request.defaults({ baseUrl: double.apiUrl }) }),
    installations: ingress.installations,
    audit: platformStorage.table(platformStorageLayout.tables.tokenAudit),
    log,
  });
  // The broker's real HTTP edge; a tenant proves itself with a bearer made here per tenant (the identity check is not under test).
  const identities = new Map<string, string>();
  const platformHost = await createLocalHost({
    table: [
      ...ingress.functions,
      {
        kind: 'http',
        name: 'tokens',
        route: 'tokens',
        methods: ['POST'],
        authLevel: 'anonymous',
        handler: createBrokerHandler({
          broker,
          authenticate: async (authorization) => {
            const tenantId = identities.get(authorization?.replace(/^Bearer /, '') ?? '');
            if (!tenantId) throw new CallerNotAuthenticatedError('unknown identity');
            return tenantId;
          },
        }),
      },
    ],
    storage: platformStorage,
    log,
    timers: false,
    queue: { minPollMs: 20, maxPollMs: 100, visibilityTimeoutSeconds: 30 },
  });
  double.setWebhookUrl(`${platformHost.url}/api/github/webhooks`);
  const tenantAccounts = accounts.slice(1);

  async function build(tenantId: string, storage: Storage, secret: string, options: TenantOptions) {
    const identityToken = randomBytes(16).toString('hex');
    identities.set(identityToken, tenantId);
    const deps: OrchestrationDeps = {
      tenantId,
      storage,
      secrets: async () => ({ current: secret }),
      broker: createBrokerClient({
        brokerUrl: platformHost.url,
        credential: { getToken: async () => ({ token: identityToken, expiresOnTimestamp: Date.now() + 3600_000 }) },
        audience: 'api://zekt-broker',
      }),
      config: { apiUrl: options.apiUrl ?? double.apiUrl, retrySchedule: [1, 1], timeoutMs: 5000, budgetPerMinute: 80, budgetPerHour: 500, confirmAfterSeconds: 600, ...options.orchestration?.config },
      log,
      ...(options.orchestration?.budgetWindows ? { budgetWindows: options.orchestration.budgetWindows } : {}),
      ...(options.orchestration?.messagesOfRun ? { messagesOfRun: options.orchestration.messagesOfRun } : {}),
      ...(options.orchestration?.staleMs !== undefined ? { staleMs: options.orchestration.staleMs } : {}),
      ...(options.orchestration?.now ? { now: options.orchestration.now } : {}),
      ...(options.orchestration?.maxRunsInFlight !== undefined ? { maxRunsInFlight: options.orchestration.maxRunsInFlight } : {}),
    };
    return createOrchestration(deps);
  }

  const hostOptionsOf = (options: TenantOptions) =>
    ({ timers: false, queue: { minPollMs: 20, maxPollMs: 100, visibilityTimeoutSeconds: 30, ...(options.queueBatchSize ? { batchSize: options.queueBatchSize } : {}) } }) as const;

  return {
    double,
    azuritePid: azurite.pid,
    ingress,
    lines,
    async addTenant(tenantId, options = {}) {
      const tenantAccount = tenantAccounts.shift();
      if (!tenantAccount) throw new Error('no storage account left for another tenant');
      const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString(tenantAccount) });
      await storage.ensure(tenantStorageLayout);
      const secret = forwardSecret();
      secrets.set(platformSecretNames.tenantForwardSecret(tenantId), secret);
      const orchestration = await build(tenantId, storage, secret, options);
      const host = await createLocalHost({
        table: createTenantFunctions({ tenantId, storage, log, version: 'test', forwardSecrets: async () => ({ current: secret }), orchestration }),
        storage,
        log,
        ...hostOptionsOf(options),
      });
      const extra: LocalHost[] = [];
      const instances = [orchestration];
      const tenant = {
        tenantId,
        storage,
        forwardSecret: secret,
        orchestration,
        host,
        url: host.url,
        credential: () => issueTenantApiCredential({ tenantId, forwardSecret: secret, subject: 'user:test' }),
        subscribe: (consumer: { id: number; fullName: string }, entries: Omit<Subscription, 'consumer'>[]) =>
          createSubscriptionIndex(storage.table('subscriptions')).replaceConsumer(consumer, entries.map((e) => ({ ...e, consumer }))),
        async addInstance(instance: { apiUrl?: string } = {}) {
          const second = await build(tenantId, storage, secret, { ...options, ...(instance.apiUrl ? { apiUrl: instance.apiUrl } : {}) });
          const secondHost = await createLocalHost({ table: second.functions.filter((f) => f.kind !== 'http'), storage, log, ...hostOptionsOf(options) });
          extra.push(secondHost);
          instances.push(second);
          return { orchestration: second, host: secondHost };
        },
        drain: async () => {
          // The runs handed over to the instances in process first (they may queue dispatches), then the queues.
          await Promise.all(instances.map((o) => o.idle()));
          await Promise.all([host, ...extra].map((h) => h.drainQueues()));
        },
        close: async () => {
          await Promise.all([host, ...extra].map((h) => h.close()));
        },
      };
      tenants.set(tenantId, tenant);
      return tenant;
    },
    async install(tenantId, accountLogin, repositories) {
      const installation = double.addInstallation({ account: accountLogin, accountType: 'Organization', repositories });
      const refs = Object.fromEntries(repositories.map((name, i) => [name, { id: [...installation.repositoryIds][i] as number, fullName: `${accountLogin}/${name}` }]));
      await ingress.installations.bind(installation.id, tenantId, { accountLogin, repositories: Object.values(refs) }, new Date());
      return refs;
    },
    async run(input) {
      const delivery = await double.sendWebhook(double.payloads.workflowRun(input));
      if (delivery.statusCode !== 202 && delivery.statusCode !== 200) throw new Error(`the ingress answered ${delivery.statusCode}`);
    },
    async close() {
      for (const t of tenants.values()) await t.close();
      await platformHost.close();
      await double.close();
      await azurite.stop();
    },
  };
}

/** Waits until `check` answers something other than undefined. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The most arrivals within any window of `windowMs` (sliding, at each arrival). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
