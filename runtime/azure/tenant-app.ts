/**
 * Entry point of a tenant's own Functions app on Azure (the tenant package's `main`): settings from
 * the app settings the tenant program writes, storage and the tenant's vault reached with the
 * tenant's managed identity, and the tenant's function table registered. The local target runs
 * the same table on the local host instead (`runtime/tenant/start-tenant-runtime.ts`).
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { loadConfig } from '../config.ts';
import { createLogger } from '../core/logger.ts';
import { createKeyVaultSecretStore } from '../core/secret-store.ts';
import { createStorage } from '../storage/create-storage.ts';
import { createTenantFunctions } from '../tenant/tenant-functions.ts';
import { tenantDepsFromConfig } from '../tenant/tenant-deps-from-config.ts';
import { registerFunctions } from './register-functions.ts';

const config = loadConfig(process.env);
const tenantId = config.tenantRuntime.tenantId;
if (!tenantId) throw new Error('ZEKT_TENANT_ID is required: a tenant app must know its tenant');
if (!config.tenantRuntime.vaultUrl) throw new Error('ZEKT_TENANT_VAULT_URL is required on Azure (the forward-signing secret lives there)');
const log = createLogger({ level: config.logLevel, base: { tenantId } });
const storage = createStorage(config.storage);
const credential = new ManagedIdentityCredential(
  config.storage.kind === 'identity' && config.storage.managedIdentityClientId ? { clientId: config.storage.managedIdentityClientId } : {},
);
const vault = createKeyVaultSecretStore({ vaultUrl: config.tenantRuntime.vaultUrl, credential });
registerFunctions(
  createTenantFunctions(
    tenantDepsFromConfig({
      config,
      tenantId,
      storage,
      log,
      vault,
      identity: credential,
      // ZEKT_TENANT_BASE_URL, else the WEBSITE_HOSTNAME Azure sets on every Functions app (config.ts).
      baseUrl: () => config.tenantRuntime.baseUrl ?? '',
    }),
  ),
);
