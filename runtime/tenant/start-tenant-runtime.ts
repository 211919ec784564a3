/**
 * The entry a tenant's local runtime process runs (the local target's Functions app): the tenant
 * function table on the local host, with the tenant's own storage account. Everything it knows
 * comes from its environment, which the resource manager builds from that tenant's settings
 * alone. SIGTERM closes the host and exits.
 */
import { loadConfig } from '../config.ts';
import { createLogger } from '../core/logger.ts';
import { zektVersion } from '../core/version.ts';
import { createStorage } from '../storage/create-storage.ts';
import { createLocalHost } from '../local-host/create-local-host.ts';
import { createTenantFunctions } from './tenant-functions.ts';

const config = loadConfig(process.env);
const tenantId = config.tenantRuntime.tenantId;
if (!tenantId) throw new Error('ZEKT_TENANT_ID is not set: a tenant runtime must know its tenant');
const log = createLogger({ level: config.logLevel, base: { tenantId } });
const storage = createStorage(config.storage);
const host = await createLocalHost({
  table: createTenantFunctions({ tenantId, storage, log, version: zektVersion }),
  storage,
  log,
  host: config.host,
  port: config.port,
});
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
