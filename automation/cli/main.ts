/**
 * `zekt` — the operator CLI (`npm run zekt -- <command>`). It talks to the platform's storage
 * directly: the tenant registry and the provisioning queue (the same API the signup endpoint
 * uses), the delivery records. Storage comes from the settings (`ZEKT_STORAGE_CONNECTION_STRING`
 * or `ZEKT_STORAGE_ACCOUNT_NAME` with an identity on Azure), or else from the running local
 * platform (`<state dir>/platform.json`, written by `npm start`). Usage errors exit with 2.
 * `zekt worker [--drain]` runs the provisioning worker itself (the Azure target's job).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, loadDotEnv, loadLocalSettings } from '../../runtime/config.ts';
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

let storage: Promise<Storage> | undefined;
/** The platform's storage, resolved once, when a command first needs it. */
function platformStorage(): Promise<Storage> {
  return (storage ??= (async () => {
    const local = loadLocalSettings(process.env);
    const found = local.storageGiven ? {} : { ZEKT_STORAGE_CONNECTION_STRING: await discoverPlatformStorage(local.stateDir) };
    return createStorage(loadConfig(process.env, found).storage);
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
