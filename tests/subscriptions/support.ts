/**
 * A small world for subscriptions as code: one Azurite serving the platform's account and one
 * account per tenant (a tenant's key reaches nothing of another's), the GitHub double, the
 * platform's identity functions (sign-in, signup, token broker, tenant API proxy) on a real local
 * host, and tenant runtimes — the tenant function table on their own local hosts, with their own
 * storage, forward secret and broker identity, exactly as a tenant process wires them.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../local/free-port.ts';
import { startAzurite, devStoreAccount, type AzuriteInstance, type StorageAccount } from '../../local/azurite/start-azurite.ts';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';
import { platformStorageLayout, platformStorageResources } from '../../runtime/platform/platform-storage-layout.ts';
import { cachedSecretStore, platformSecretNames, type SecretStore } from '../../runtime/core/secret-store.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createIdentity } from '../../runtime/identity/create-identity.ts';
import { createTenantAccountsStore } from '../../runtime/identity/tenant-accounts-store.ts';
import { createInstallationRegistry, type InstallationRegistry } from '../../runtime/platform/installation-registry.ts';
import { createTenantRegistry, type TenantRegistry } from '../../automation/tenant-registry.ts';
import { createJobQueue } from '../../automation/provisioning-jobs.ts';
import { createLocalIdentityCredential, verifyLocalIdentityToken, type LocalIdentity } from '../../runtime/core/local-identity.ts';
import { createBrokerClient } from '../../runtime/tenant/broker-client.ts';
import { createTenantFunctions } from '../../runtime/tenant/tenant-functions.ts';
import { issueTenantApiCredential } from '../../runtime/tenant/tenant-api-credential.ts';
import { signForward, type ForwardedDelivery } from '../../runtime/ingress/forward-to-tenant.ts';
import { tenantStorageLayout, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import { createSubscriptionIndex } from '../../runtime/tenant/subscriptions/subscription-index.ts';
import { createSubscriptionSyncState } from '../../runtime/tenant/subscriptions/subscription-sync-state.ts';
import { identityConfig, Browser } from '../identity/support.ts';
import { memoryLogger } from '../support/logs.ts';
import type { FunctionTable } from '../../runtime/functions/function-table.ts';

export { Browser };

export interface TenantRuntime {
  readonly tenantId: string;
  readonly url: string;
  readonly storage: Storage;
  readonly forwardSecret: string;
  readonly index: ReturnType<typeof createSubscriptionIndex>;
  readonly state: ReturnType<typeof createSubscriptionSyncState>;
  readonly host: LocalHost;
  /** The runtime's function table (tests run its timer by hand). */
  readonly table: FunctionTable;
  /** Calls the runtime's API with a fresh credential (what the platform does). */
  api(method: 'GET' | 'POST', path: string, body?: unknown, credential?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  credential(subject?: string): Promise<string>;
  /** Posts a forwarded delivery, signed as the ingress signs it. */
  forward(event: string, payload: Record<string, unknown>, installationId: number, action?: string): Promise<Response>;
  /** Waits until the sync queue is empty and handled. */
  drain(): Promise<void>;
}

export interface World {
  readonly azurite: AzuriteInstance;
  readonly double: GitHubDouble;
  readonly platformUrl: string;
  readonly registry: TenantRegistry;
  readonly installations: InstallationRegistry;
  /** The platform vault (tenants' forward secrets under `tenant-<id>-forward-secret`). */
  readonly vault: SecretStore;
  readonly lines: Record<string, unknown>[];
  /** A tenant runtime, marked ready in the registry (its owner signs up first when given); `dispatch`: orchestration runs too. */
  addTenant(tenantId: string, options?: { dispatch?: boolean }): Promise<TenantRuntime>;
  /** Signs a user in through the double's OAuth and signs them up: their tenant is `login`. */
  signUp(login: string): Promise<Browser>;
  close(): Promise<void>;
}

const account = (name: string): StorageAccount => ({ name, key: randomBytes(32).toString('base64') });

export async function startSubscriptionsWorld(tenantIds: readonly string[]): Promise<World> {
  const accounts = new Map(tenantIds.map((t) => [t, account(`t${t.replace(/[^a-z0-9]/g, '')}`)]));
  const azurite = await startAzurite({ accounts: [devStoreAccount, ...accounts.values()] });
  const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString(devStoreAccount) });
  await storage.ensure(platformStorageResources);
  const port = await freePort();
  const platformUrl = `http://127.0.0.1:${port}`;
  const double = await startGitHubDouble({ app: { callbackUrls: [`${platformUrl}/api/auth/callback`] } });
  const secrets = new Map<string, string>([
    [platformSecretNames.oauthClientSecret, double.app.clientSecret],
    [platformSecretNames.appPrivateKey, double.app.privateKey],
    [platformSecretNames.sessionKey, randomBytes(32).toString('base64')],
  ]);
  const { log, lines } = memoryLogger('debug');
  const registry = createTenantRegistry({ table: storage.table(platformStorageLayout.tables.tenants) });
  const jobs = createJobQueue(storage.queue(platformStorageLayout.queues.provisioning));
  const installations = createInstallationRegistry(storage.table(platformStorageLayout.tables.installations));
  const identities = new Map<string, { identity: LocalIdentity; tenantId: string }>();
  const vault = cachedSecretStore(async (name) => secrets.get(name), 0);
  const identity = createIdentity({
    storage,
    secrets: vault,
    config: identityConfig(double),
    github: { apiUrl: double.apiUrl, webUrl: double.webUrl },
    publicUrl: platformUrl,
    tenants: createTenantAccountsStore(storage.table(platformStorageLayout.tables.accounts), { registry, jobs }),
    installations,
    releaseParked: async () => 0,
    verifyCallerToken: async (token) => verifyLocalIdentityToken(token, (cid) => identities.get(cid)?.identity.secret, { audience: 'api://zekt-broker' }),
    tenantForIdentity: async (cid) => identities.get(cid)?.tenantId,
    tenantForwardSecrets: async (tenantId) => {
      const current = await vault.get(platformSecretNames.tenantForwardSecret(tenantId));
      return current ? { current } : undefined;
    },
    log,
  });
  const platform = await createLocalHost({ table: identity.functions, log, port });
  const runtimes: TenantRuntime[] = [];

  async function addTenant(tenantId: string, options: { dispatch?: boolean } = {}): Promise<TenantRuntime> {
    const tenantAccount = accounts.get(tenantId);
    if (!tenantAccount) throw new Error(`no storage account for ${tenantId}`);
    const tenantStorage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString(tenantAccount) });
    await tenantStorage.ensure({ tables: [...tenantStorageLayout.tables], queues: [...tenantStorageLayout.queues], containers: [...tenantStorageLayout.containers] });
    const forwardSecret = `whsec_${randomBytes(24).toString('base64')}`;
    secrets.set(platformSecretNames.tenantForwardSecret(tenantId), forwardSecret);
    const id: LocalIdentity = { clientId: `id-zekt-${tenantId}`, secret: randomBytes(32).toString('hex') };
    identities.set(id.clientId, { identity: id, tenantId });
    const tenantPort = await freePort();
    const url = `http://127.0.0.1:${tenantPort}`;
    const tlog = log.child({ tenantId });
    const table = createTenantFunctions({
        tenantId,
        storage: tenantStorage,
        log: tlog,
        version: 'test',
        forwardSecrets: async () => ({ current: forwardSecret }),
        broker: createBrokerClient({ brokerUrl: platformUrl, credential: createLocalIdentityCredential(id), audience: 'api://zekt-broker' }),
        githubApiUrl: double.apiUrl,
        ...(options.dispatch
          ? { dispatch: { apiUrl: double.apiUrl, retrySchedule: [1], timeoutMs: 5000, budgetPerMinute: 80, budgetPerHour: 500, confirmAfterSeconds: 600 } }
          : {}),
      });
    const host = await createLocalHost({
      table,
      storage: tenantStorage,
      log: tlog,
      port: tenantPort,
      timers: false,
      queue: { minPollMs: 20, maxPollMs: 100 },
    });
    // The registry says where the tenant runs once it is ready (what provisioning records).
    if (!(await registry.get(tenantId))) await registry.create(tenantId, { requestId: `r-${tenantId}` });
    const outputs: TenantStackOutputs = {
      tenantId,
      baseUrl: url,
      webhookUrl: `${url}/api/webhooks`,
      messagesUrl: `${url}/api/messages`,
      vaultUri: 'https://vault.invalid',
      storageAccountName: tenantAccount.name,
      blobEndpoint: '',
      queueEndpoint: '',
      tableEndpoint: '',
      identityClientId: id.clientId,
      identityPrincipalId: id.clientId,
      resourceGroupName: `rg-${tenantId}`,
    };
    await registry.update(tenantId, (r) => ({ ...r, status: 'provisioning' }));
    await registry.update(tenantId, (r) => ({ ...r, status: 'ready', outputs }));
    const subscriptionsTable = tenantStorage.table(tenantStorageLayout.tables[3]);
    const runtime: TenantRuntime = {
      tenantId,
      url,
      storage: tenantStorage,
      forwardSecret,
      index: createSubscriptionIndex(subscriptionsTable),
      state: createSubscriptionSyncState(subscriptionsTable),
      host,
      table,
      credential: (subject = 'operator') => issueTenantApiCredential({ tenantId, forwardSecret, subject }),
      async api(method, path, body, credential) {
        const res = await fetch(`${url}/api/${path}`, {
          method,
          headers: { authorization: `Bearer ${credential ?? (await runtime.credential())}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      },
      async forward(event, payload, installationId, action) {
        const delivery: ForwardedDelivery = {
          id: randomBytes(16).toString('hex'),
          event,
          ...(action ? { action } : {}),
          installationId,
          tenantId,
          receivedAt: new Date().toISOString(),
          payload: { ...payload, ...(action ? { action } : {}), installation: { id: installationId } },
        };
        const text = JSON.stringify(delivery);
        return fetch(`${url}/api/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...signForward(delivery.id, text, { current: forwardSecret }, new Date()) }, body: text });
      },
      drain: () => host.drainQueues(),
    };
    runtimes.push(runtime);
    return runtime;
  }

  return {
    azurite,
    double,
    platformUrl,
    registry,
    installations,
    vault,
    lines,
    addTenant,
    async signUp(login) {
      double.addUser({ login });
      double.signInAs(login);
      const browser = new Browser({ platformUrl });
      await browser.signIn();
      const res = await browser.post('/api/signup');
      if (res.status !== 202) throw new Error(`signup of ${login} answered ${res.status}`);
      return browser;
    },
    async close() {
      for (const r of runtimes) await r.host.close();
      await platform.close();
      await double.close();
      await azurite.stop();
    },
  };
}
