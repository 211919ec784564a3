/**
 * Secrets are read from a Key Vault (Azure) or the local vault (same API), through
 * `@azure/keyvault-secrets`, and cached briefly so a hot path does not call the vault per request
 * while a rotated secret is still picked up within the TTL.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { statusOf } from '../storage/status-of.ts';

export interface SecretStore {
  /** The current value, or undefined when the secret does not exist. */
  get(name: string): Promise<string | undefined>;
}

export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

export interface KeyVaultSecretStoreOptions {
  readonly vaultUrl: string;
  readonly credential: TokenCredential;
  /** How long a value is reused, in ms (60 s by default). */
  readonly ttlMs?: number;
  readonly clientOptions?: ConstructorParameters<typeof SecretClient>[2];
  readonly now?: () => number;
}

export function createKeyVaultSecretStore(options: KeyVaultSecretStoreOptions): SecretStore {
  const client = new SecretClient(options.vaultUrl, options.credential, options.clientOptions);
  return cachedSecretStore(async (name) => {
    try {
      return (await client.getSecret(name)).value;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new SecretStoreError(`could not read secret "${name}" from ${options.vaultUrl}`, { cause: err });
    }
  }, options.ttlMs ?? 60_000, options.now ?? Date.now);
}

/** Wraps a reader with a TTL cache; concurrent reads of one name share one call. */
export function cachedSecretStore(
  read: (name: string) => Promise<string | undefined>,
  ttlMs: number,
  now: () => number = Date.now,
): SecretStore {
  const cache = new Map<string, { at: number; value: Promise<string | undefined> }>();
  return {
    get(name) {
      const hit = cache.get(name);
      if (hit && now() - hit.at < ttlMs) return hit.value;
      const value = read(name);
      cache.set(name, { at: now(), value });
      value.catch(() => cache.delete(name));
      return value;
    },
  };
}

/** Names of the platform's secrets in its vault. */
export const platformSecretNames = {
  webhookSecret: 'github-webhook-secret',
  webhookSecretPrevious: 'github-webhook-secret-previous',
  appPrivateKey: 'github-app-private-key',
  oauthClientSecret: 'github-oauth-client-secret',
  sessionKey: 'session-key',
  /** The forward-signing secrets of one tenant (current, previous), kept by the control plane. */
  tenantForwardSecret: (tenantId: string) => `tenant-${tenantId}-forward-secret`,
  tenantForwardSecretPrevious: (tenantId: string) => `tenant-${tenantId}-forward-secret-previous`,
} as const;
