/**
 * What the resource manager knows, persisted (encrypted) under the state dir so that everything it
 * created outlives `pulumi up` and comes back after a restart. One record per resource, keyed by
 * its deterministic name; each carries the tenant it belongs to.
 */
import type { EncryptedFile } from './encrypted-file.ts';

export interface IdentityRecord {
  readonly name: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly principalId: string;
  readonly secret: string;
  readonly createdAt: string;
}

export interface StorageAccountRecord {
  readonly name: string;
  readonly tenantId: string;
  /** Base64 account key (Azure's key1). */
  readonly key: string;
  readonly ports: { readonly blob: number; readonly queue: number; readonly table: number };
  readonly layout: { readonly tables: readonly string[]; readonly queues: readonly string[]; readonly containers: readonly string[] };
  readonly createdAt: string;
}

export interface SecretVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled: boolean;
  /** Unix seconds, as Key Vault reports them. */
  readonly created: number;
  readonly updated: number;
}

export interface VaultRecord {
  readonly name: string;
  readonly tenantId: string;
  readonly port: number;
  /** Client ids of the identities this vault accepts (its access policy). */
  readonly readers: readonly string[];
  /** Versions per secret name, oldest first. */
  readonly secrets: Readonly<Record<string, readonly SecretVersion[]>>;
  readonly createdAt: string;
}

export interface FunctionRuntimeRecord {
  readonly name: string;
  readonly tenantId: string;
  readonly port: number;
  /** The app settings of the tenant's process (secrets included); encrypted at rest with the rest. */
  readonly settings: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export interface ResourceManagerState {
  readonly adminToken: string;
  readonly tls?: { readonly key: string; readonly cert: string; readonly notAfter: string };
  readonly identities: Readonly<Record<string, IdentityRecord>>;
  readonly storageAccounts: Readonly<Record<string, StorageAccountRecord>>;
  readonly vaults: Readonly<Record<string, VaultRecord>>;
  readonly functionRuntimes: Readonly<Record<string, FunctionRuntimeRecord>>;
}

/** Which record maps hold resources; the admin API and the supervisors share these names. */
export type ResourceKind = 'identities' | 'storageAccounts' | 'vaults' | 'functionRuntimes';

export interface StateStore {
  current(): ResourceManagerState;
  /** Applies `change` and persists the result; changes are applied and written one at a time. */
  update(change: (state: ResourceManagerState) => ResourceManagerState): Promise<ResourceManagerState>;
}

export async function openStateStore(file: EncryptedFile<ResourceManagerState>, initial: () => ResourceManagerState): Promise<StateStore> {
  let state = (await file.load()) ?? initial();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    current: () => state,
    update(change) {
      const run = queue.then(async () => {
        const next = change(state);
        await file.save(next);
        state = next;
        return next;
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** A copy of `map` with `key` set (or removed when `value` is undefined). */
export function withEntry<T>(map: Readonly<Record<string, T>>, key: string, value: T | undefined): Record<string, T> {
  const next = { ...map };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}
