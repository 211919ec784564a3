/**
 * What both entries of a tenant runtime (the Functions app on Azure, the local process) give the
 * tenant function table, built one way from the tenant's settings: its own vault (forward secret,
 * message key), the platform's token broker reached with the tenant's own identity, GitHub's API
 * and OIDC issuer, the dispatch and message settings.
 */
import type { TokenCredential } from '@azure/identity';
import type { ZektConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import type { SecretStore } from '../core/secret-store.ts';
import { zektVersion } from '../core/version.ts';
import type { Storage } from '../storage/create-storage.ts';
import { tenantSecretNames } from '../../tenant-stack/tenant-secrets.ts';
import { createBrokerClient } from './broker-client.ts';
import type { TenantDeps } from './tenant-functions.ts';

export interface TenantDepsInput {
  readonly config: ZektConfig;
  readonly tenantId: string;
  readonly storage: Storage;
  readonly log: Logger;
  /** The tenant's own Key Vault (locally: its vault on the resource manager). */
  readonly vault?: SecretStore;
  /** The tenant's own identity: it reads the vault and proves the runtime to the broker. */
  readonly identity: TokenCredential;
  /** The runtime's public base URL, read when a message reference is built. */
  readonly baseUrl: () => string;
}

export function tenantDepsFromConfig(input: TenantDepsInput): TenantDeps {
  const { config, vault } = input;
  const runtime = config.tenantRuntime;
  return {
    tenantId: input.tenantId,
    storage: input.storage,
    log: input.log,
    version: zektVersion,
    githubApiUrl: config.github.apiUrl,
    dispatch: { apiUrl: config.github.apiUrl, ...runtime.dispatch },
    ...(runtime.brokerUrl ? { broker: createBrokerClient({ brokerUrl: runtime.brokerUrl, credential: input.identity, audience: config.identity.brokerAudience }) } : {}),
    ...(vault
      ? {
          forwardSecrets: async () => {
            const current = await vault.get(tenantSecretNames.forwardSigningSecret);
            return current ? { current } : undefined;
          },
          messages: {
            oidcIssuer: config.github.oidcIssuer,
            messageKeys: async () => {
              const current = await vault.get(tenantSecretNames.messageEncryptionKey);
              return current ? { current } : undefined;
            },
            settings: runtime.messages,
            messagesUrl: () => `${(runtime.baseUrl ?? input.baseUrl()).replace(/\/$/, '')}/api/messages`,
          },
        }
      : {}),
  };
}
