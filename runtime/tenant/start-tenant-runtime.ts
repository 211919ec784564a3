/**
 * The entry a tenant's local runtime process runs (the local target's Functions app): the tenant
 * function table on the local host, with the tenant's own storage account. Everything it knows
 * comes from its environment, which the resource manager builds from that tenant's settings
 * alone. SIGTERM closes the host and exits.
 */
import { loadConfig } from '../config.ts';
import { createLogger } from '../core/logger.ts';
import { createStorage } from '../storage/create-storage.ts';
import { countStorageRequests } from '../storage/count-storage-requests.ts';
import { createLocalHost } from '../local-host/create-local-host.ts';
import { createTenantFunctions } from './tenant-functions.ts';
import { createKeyVaultSecretStore } from '../core/secret-store.ts';
import { createLocalIdentityCredential } from '../core/local-identity.ts';
import { ManagedIdentityCredential } from '@azure/identity';
import { tenantDepsFromConfig } from './tenant-deps-from-config.ts';

const config = loadConfig(process.env);
const tenantId = config.tenantRuntime.tenantId;
if (!tenantId) throw new Error('ZEKT_TENANT_ID is not set: a tenant runtime must know its tenant');
const log = createLogger({ level: config.logLevel, base: { tenantId } });
const storage = createStorage(config.storage);
const runtime = config.tenantRuntime;
if (runtime.storageRequestCountsFile) {
  const endpoints = [storage.table('events').url, storage.queue('deliveries').url, storage.container('probe').url];
  countStorageRequests({ accountName: storage.accountName, endpoints, file: runtime.storageRequestCountsFile });
}
// The tenant's own vault holds its forward-signing secret; its own identity reads it (locally the
// resource manager's identity, whose vault certificate NODE_EXTRA_CA_CERTS trusts).
const identity = runtime.localIdentity
  ? createLocalIdentityCredential(runtime.localIdentity)
  : new ManagedIdentityCredential(config.storage.kind === 'identity' && config.storage.managedIdentityClientId ? { clientId: config.storage.managedIdentityClientId } : {});
const vault = runtime.vaultUrl
  ? createKeyVaultSecretStore({
      vaultUrl: runtime.vaultUrl,
      credential: identity,
      // A local vault's host is not a vault.azure.net subdomain.
      ...(runtime.localIdentity ? { clientOptions: { disableChallengeResourceVerification: true } } : {}),
    })
  : undefined;
// The message references point at this runtime's own address unless ZEKT_TENANT_BASE_URL says otherwise.
let listeningUrl = '';
const host = await createLocalHost({
  table: createTenantFunctions(
    tenantDepsFromConfig({ config, tenantId, storage, log, identity, ...(vault ? { vault } : {}), baseUrl: () => listeningUrl }),
  ),
  storage,
  log,
  host: config.host,
  port: config.port,
});
listeningUrl = host.url;
log.info({ url: host.url }, 'tenant runtime listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    host.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'tenant runtime did not stop cleanly');
        process.exit(1);
      },
    );
  });
}
