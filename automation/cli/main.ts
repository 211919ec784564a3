/**
 * `zekt` — the operator CLI (`npm run zekt -- <command>`). It talks to the platform's storage
 * directly: the tenant registry and the provisioning queue (the same API the signup endpoint
 * uses), the delivery records. Storage comes from the settings (`ZEKT_STORAGE_CONNECTION_STRING`
 * or `ZEKT_STORAGE_ACCOUNT_NAME` with an identity on Azure), or else from the running local
 * platform (`<state dir>/platform.json`, written by `npm start`). `zekt events|dispatches|subscriptions`
 * call a tenant runtime's API with a credential derived from the tenant's forward secret, read from
 * the platform vault (`ZEKT_PLATFORM_VAULT_URL` with the operator's Azure identity, or the running
 * local platform's vault). Usage errors exit with 2.
 * `zekt worker [--drain]` runs the provisioning worker itself (the Azure target's job).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, loadDotEnv, loadLocalSettings, type ZektConfig } from '../../runtime/config.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';
import { platformStorageLayout } from '../../runtime/platform/platform-storage-layout.ts';
import { createDeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition } from '../../runtime/ingress/delivery-record.ts';
import { replayDelivery } from '../../runtime/ingress/replay-delivery.ts';
import { discoverPlatformStorage, PlatformUnavailableError } from '../../local/platform-discovery.ts';
import { createTenantRegistry } from '../tenant-registry.ts';
import { createJobQueue, provisioningQueueName, tenantsTableName } from '../provisioning-jobs.ts';
import { createReconcileRuns } from '../reconcile-runs.ts';
import { runProvisioningWorkerProcess } from '../run-provisioning-worker.ts';
import { exitCodes, tenantsCommand } from './tenants-command.ts';
import { deliveriesCommand } from './deliveries-command.ts';
import { appCommand } from './app-command.ts';
import { createLogger } from '../../runtime/core/logger.ts';
import { DefaultAzureCredential } from '@azure/identity';
import { createKeyVaultSecretStore, type SecretStore } from '../../runtime/core/secret-store.ts';
import { discoverPlatformVault } from '../../local/platform-vault-discovery.ts';
import { createTenantApiClient, type TenantApiClient } from './tenant-api-client.ts';
import { createTenantForwardSecretReader } from './tenant-forward-secret.ts';
import type { TenantApiCommandDeps } from './tenant-api-command.ts';
import { eventsCommand } from './events-command.ts';
import { dispatchesCommand } from './dispatches-command.ts';
import { subscriptionsCommand } from './subscriptions-command.ts';

let platform: Promise<{ config: ZektConfig; storage: Storage }> | undefined;
/** The platform's settings and storage, resolved once, when a command first needs them. */
function platformSettings(): Promise<{ config: ZektConfig; storage: Storage }> {
  return (platform ??= (async () => {
    const local = loadLocalSettings(process.env);
    const found = local.storageGiven ? {} : { ZEKT_STORAGE_CONNECTION_STRING: await discoverPlatformStorage(local.stateDir) };
    const config = loadConfig(process.env, found);
    return { config, storage: createStorage(config.storage) };
  })());
}
const platformStorage = async () => (await platformSettings()).storage;

let tenantApi: Promise<TenantApiClient> | undefined;
/** The tenant runtimes' API, as the platform's operator: the registry for where, the vault for the secret. */
function operatorTenantApi(): Promise<TenantApiClient> {
  return (tenantApi ??= (async () => {
    const { config, storage: s } = await platformSettings();
    let platformVault: SecretStore;
    let readTenantVaultSecret: ((vaultUri: string, name: string) => Promise<string | undefined>) | undefined;
    if (config.platformVaultUrl) {
      const credential = new DefaultAzureCredential();
      platformVault = createKeyVaultSecretStore({ vaultUrl: config.platformVaultUrl, credential });
      readTenantVaultSecret = (vaultUri, name) => createKeyVaultSecretStore({ vaultUrl: vaultUri, credential }).get(name);
    } else {
      platformVault = await discoverPlatformVault(loadLocalSettings(process.env).stateDir);
    }
    return createTenantApiClient({
      registry: createTenantRegistry({ table: s.table(tenantsTableName) }),
      forwardSecret: createTenantForwardSecretReader({ platformVault, ...(readTenantVaultSecret ? { readTenantVaultSecret } : {}) }),
    });
  })());
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const setExitCode = (code: number) => {
  process.exitCode = code;
};

const program = new Command('zekt').description('Zekt operator CLI').exitOverride();
program.addCommand(
  tenantsCommand({
    controlPlane: async () => {
      const s = await platformStorage();
      const table = s.table(tenantsTableName);
      return { registry: createTenantRegistry({ table }), jobs: createJobQueue(s.queue(provisioningQueueName)), runs: createReconcileRuns({ table }) };
    },
    out,
    setExitCode,
    progress: process.stderr,
    unavailable: [PlatformUnavailableError, ConfigError],
  }),
);
program.addCommand(
  deliveriesCommand({
    ingress: async () => {
      const s = await platformStorage();
      const { tables, queues, containers } = platformStorageLayout;
      const deliveries = createDeliveryStore(s.table(tables.deliveries), s.container(containers.webhookPayloads), deliveryPartition);
      return { deliveries, replay: (id: string) => replayDelivery(deliveries, s.queue(queues.ingressDeliveries), id) };
    },
    out,
    setExitCode,
  }),
);
program.addCommand(
  appCommand({
    settings: () => {
      const env = loadDotEnv(process.env);
      const local = loadLocalSettings(env);
      return { stateDir: local.stateDir, host: local.host, publicUrl: local.publicUrl, webUrl: local.github.webUrl, apiUrl: local.github.apiUrl, ...(local.webhookProxyUrl ? { webhookProxyUrl: local.webhookProxyUrl } : {}) };
    },
    log: createLogger({ level: 'warn' }),
    out,
  }),
);
const tenantApiDeps: TenantApiCommandDeps = { tenantApi: operatorTenantApi, out, setExitCode, unavailable: [PlatformUnavailableError, ConfigError] };
program.addCommand(eventsCommand(tenantApiDeps));
program.addCommand(dispatchesCommand(tenantApiDeps));
program.addCommand(subscriptionsCommand(tenantApiDeps));
program
  .command('worker')
  .description('run the provisioning worker on the queue (Azure target: the platform job; locally `npm start` runs it)')
  .option('--drain', 'exit once the queue has no visible job')
  .action(async (opts: { drain?: boolean }) => {
    // The worker reads its settings from the environment it was given (the job's app settings).
    await runProvisioningWorkerProcess(loadConfig(process.env), { drain: Boolean(opts.drain) });
  });
// Usage errors in subcommands surface as CommanderError too.
const exitOverride = (c: Command) => {
  c.exitOverride();
  c.commands.forEach(exitOverride);
};
exitOverride(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // --help and --version end through here with exit code 0.
  process.exitCode = err.exitCode === 0 ? exitCodes.ok : exitCodes.invalid;
}
