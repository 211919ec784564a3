/**
 * Entry point of the shared platform's Functions app on Azure (package.json `main` after build):
 * settings from the app settings, storage and the platform vault by managed identity, tenant
 * runtimes' Entra tokens for the broker, and the platform's table registered.
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { loadConfig } from '../config.ts';
import { createLogger } from '../core/logger.ts';
import { createKeyVaultSecretStore } from '../core/secret-store.ts';
import { createStorage } from '../storage/create-storage.ts';
import { createPlatformFunctions } from '../platform/platform-functions.ts';
import { createPlatformParts } from '../platform/create-platform-parts.ts';
import { entraTokenVerifier } from '../identity/caller-authenticator.ts';
import { registerFunctions } from './register-functions.ts';
import { zektVersion } from '../core/version.ts';

const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel });
const storage = createStorage(config.storage);
const credential = new ManagedIdentityCredential(
  config.storage.kind === 'identity' && config.storage.managedIdentityClientId ? { clientId: config.storage.managedIdentityClientId } : {},
);
if (!config.platformVaultUrl) throw new Error('ZEKT_PLATFORM_VAULT_URL is required on Azure');
if (!config.identity.entraTenantId) throw new Error('AZURE_ENTRA_TENANT_ID is required on Azure (the broker verifies Entra tokens)');
if (!config.publicUrl) throw new Error('ZEKT_PUBLIC_URL is required on Azure');
const parts = createPlatformParts({
  config,
  storage,
  secrets: createKeyVaultSecretStore({ vaultUrl: config.platformVaultUrl, credential }),
  verifyCallerToken: entraTokenVerifier({
    entraTenantId: config.identity.entraTenantId,
    audience: config.identity.brokerAudience,
    ...(config.identity.brokerClientId ? { clientId: config.identity.brokerClientId } : {}),
  }),
  publicUrl: config.publicUrl,
  // The tenant program grants the ingress identity read on the tenant vault's forward secret only.
  readTenantVaultSecret: (() => {
    const stores = new Map<string, ReturnType<typeof createKeyVaultSecretStore>>();
    return (vaultUri: string, name: string) => {
      let store = stores.get(vaultUri);
      if (!store) stores.set(vaultUri, (store = createKeyVaultSecretStore({ vaultUrl: vaultUri, credential })));
      return store.get(name);
    };
  })(),
  log,
});
registerFunctions(createPlatformFunctions({ config, log, storage, version: zektVersion, parts }));
