/**
 * The resource manager's operations, without HTTP: create-or-adopt, read and delete of local
 * identities, storage accounts, vaults (and their secrets) and function runtimes. Names are
 * deterministic per tenant, so a create of a name that exists for the same tenant adopts it (an
 * interrupted `up` that is retried does not orphan what it started); the same name for another
 * tenant is a conflict. Operations on one resource are serialised.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Logger } from '../../runtime/core/logger.ts';
import { assertTenantId } from '../../tenant-stack/tenant-id.ts';
import type {
  FunctionRuntimeRecord,
  IdentityRecord,
  ResourceKind,
  StateStore,
  StorageAccountRecord,
  VaultRecord,
} from './resource-manager-state.ts';
import { withEntry } from './resource-manager-state.ts';
import { ensureStorageLayout, removeStorageAccount, startStorageAccount, type RunningStorageAccount } from './storage-accounts.ts';
import { serveVault, type VaultServer } from './vault-server.ts';
import type { RuntimeSupervisor } from './function-runtimes.ts';
import { deleteSecret, getSecret, setSecret } from './vault-secrets.ts';

/** Who owns the platform's own identity and vault (not a valid tenant id, so never a tenant's). */
export const platformOwner = '@platform';

export class InvalidResourceRequestError extends Error {
  override name = 'InvalidResourceRequestError';
}

/** The name exists and belongs to another tenant. */
export class ResourceConflictError extends Error {
  override name = 'ResourceConflictError';
}

export class ResourceNotFoundError extends Error {
  override name = 'ResourceNotFoundError';
}

const namePatterns: Record<ResourceKind, RegExp> = {
  identities: /^[a-z0-9][a-z0-9-]{1,62}$/,
  // Azure: storage accounts 3-24 lowercase letters and digits; Key Vaults 3-24 letters, digits, hyphens.
  storageAccounts: /^[a-z0-9]{3,24}$/,
  vaults: /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/,
  functionRuntimes: /^[a-z0-9][a-z0-9-]{1,62}$/,
};

const storageObjectName = /^[a-z][a-z0-9-]{2,62}$/;

export interface IdentityView {
  readonly name: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly principalId: string;
  readonly clientSecret: string;
}

export interface StorageAccountView {
  readonly name: string;
  readonly tenantId: string;
  readonly key: string;
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  /** Whether its Azurite process is alive (a dead one is drift; an update starts it again). */
  readonly running: boolean;
}

export interface VaultView {
  readonly name: string;
  readonly tenantId: string;
  readonly vaultUri: string;
  readonly readers: readonly string[];
}

export interface FunctionRuntimeView {
  readonly name: string;
  readonly tenantId: string;
  readonly baseUrl: string;
  readonly running: boolean;
  readonly pid?: number;
  readonly restarts: number;
}

export interface LocalResources {
  putIdentity(name: string, input: { tenantId: string }): Promise<IdentityView>;
  getIdentity(name: string): IdentityView | undefined;
  deleteIdentity(name: string): Promise<boolean>;
  putStorageAccount(name: string, input: { tenantId: string; layout: StorageAccountRecord['layout'] }): Promise<StorageAccountView>;
  getStorageAccount(name: string): StorageAccountView | undefined;
  deleteStorageAccount(name: string): Promise<boolean>;
  putVault(name: string, input: { tenantId: string; readers: readonly string[] }): Promise<VaultView>;
  getVault(name: string): VaultView | undefined;
  deleteVault(name: string): Promise<boolean>;
  /** Sets a secret; the same value as the newest version adds no version (idempotent). */
  putVaultSecret(vault: string, secret: string, value: string): Promise<{ version: string }>;
  getVaultSecret(vault: string, secret: string): { value: string; version: string } | undefined;
  deleteVaultSecret(vault: string, secret: string): Promise<boolean>;
  putFunctionRuntime(name: string, input: { tenantId: string; settings: Record<string, string> }): Promise<FunctionRuntimeView>;
  getFunctionRuntime(name: string): FunctionRuntimeView | undefined;
  deleteFunctionRuntime(name: string): Promise<boolean>;
  /** Brings back everything recorded (manager start). */
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
}

export function createLocalResources(options: {
  readonly stateDir: string;
  readonly host: string;
  readonly store: StateStore;
  readonly tls: { readonly key: string; readonly cert: string };
  readonly runtimes: RuntimeSupervisor;
  readonly log: Logger;
  readonly now?: () => number;
}): LocalResources {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  const storage = new Map<string, RunningStorageAccount>();
  const vaultServers = new Map<string, VaultServer>();
  const locks = new Map<string, Promise<unknown>>();

  /** Serialises operations on one resource (two creates of one name adopt, never race). */
  function locked<T>(kind: ResourceKind, name: string, fn: () => Promise<T>): Promise<T> {
    const key = `${kind}/${name}`;
    const run = (locks.get(key) ?? Promise.resolve()).then(fn);
    const settled = run.catch(() => undefined);
    locks.set(key, settled);
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return run;
  }

  function checkName(kind: ResourceKind, name: string): void {
    if (!namePatterns[kind].test(name)) throw new InvalidResourceRequestError(`invalid ${kind} name ${JSON.stringify(name)}`);
  }

  function checkOwner(kind: ResourceKind, name: string, existing: { tenantId: string } | undefined, tenantId: string): void {
    if (existing && existing.tenantId !== tenantId) throw new ResourceConflictError(`${kind} ${name} belongs to another tenant`);
  }

  function checkTenant(tenantId: unknown): asserts tenantId is string {
    try {
      assertTenantId(tenantId);
    } catch (err) {
      throw new InvalidResourceRequestError((err as Error).message, { cause: err });
    }
  }

  const iso = () => new Date(now()).toISOString();

  function identityView(record: IdentityRecord): IdentityView {
    return { name: record.name, tenantId: record.tenantId, clientId: record.clientId, principalId: record.principalId, clientSecret: record.secret };
  }

  function storageView(record: StorageAccountRecord): StorageAccountView {
    const running = storage.get(record.name);
    const endpoint = (port: number) => `http://${options.host}:${port}/${record.name}`;
    return {
      name: record.name,
      tenantId: record.tenantId,
      key: record.key,
      blobEndpoint: running?.endpoints.blob ?? endpoint(record.ports.blob),
      queueEndpoint: running?.endpoints.queue ?? endpoint(record.ports.queue),
      tableEndpoint: running?.endpoints.table ?? endpoint(record.ports.table),
      running: Boolean(running && isAlive(running.azurite.pid)),
    };
  }

  function vaultView(record: VaultRecord): VaultView {
    return { name: record.name, tenantId: record.tenantId, vaultUri: `https://${options.host}:${record.port}`, readers: record.readers };
  }

  function runtimeView(record: FunctionRuntimeRecord): FunctionRuntimeView {
    return { name: record.name, tenantId: record.tenantId, baseUrl: `http://${options.host}:${record.port}`, ...options.runtimes.status(record.name) };
  }

  async function bootStorage(record: StorageAccountRecord): Promise<RunningStorageAccount> {
    const running = await startStorageAccount(options.stateDir, record, options.host, log);
    storage.set(record.name, running);
    const ports = { blob: running.azurite.blobPort, queue: running.azurite.queuePort, table: running.azurite.tablePort };
    if (ports.blob !== record.ports.blob || ports.queue !== record.ports.queue || ports.table !== record.ports.table) {
      await store.update((state) => {
        const current = state.storageAccounts[record.name];
        return current ? { ...state, storageAccounts: withEntry(state.storageAccounts, record.name, { ...current, ports }) } : state;
      });
    }
    return running;
  }

  async function bootVault(record: VaultRecord): Promise<void> {
    const server = await serveVault({ vaultName: record.name, store, tls: options.tls, host: options.host, port: record.port, log, now });
    vaultServers.set(record.name, server);
    if (server.port !== record.port) {
      await store.update((state) => {
        const current = state.vaults[record.name];
        return current ? { ...state, vaults: withEntry(state.vaults, record.name, { ...current, port: server.port }) } : state;
      });
    }
  }

  async function removeTenantDirIfEmpty(tenantId: string): Promise<void> {
    if (tenantId === platformOwner) return;
    const dir = path.join(options.stateDir, 'tenants', tenantId);
    for (const sub of [path.join(dir, 'storage'), dir]) {
      // rmdir only removes empty folders: anything still in use stays.
      await rmdir(sub).catch(() => undefined);
    }
  }

  return {
    putIdentity: (name, input) =>
      locked('identities', name, async () => {
        checkName('identities', name);
        if (input.tenantId !== platformOwner) checkTenant(input.tenantId);
        const existing = store.current().identities[name];
        checkOwner('identities', name, existing, input.tenantId);
        if (existing) return identityView(existing);
        const record: IdentityRecord = {
          name,
          tenantId: input.tenantId,
          clientId: randomUUID(),
          principalId: randomUUID(),
          secret: randomBytes(32).toString('base64url'),
          createdAt: iso(),
        };
        await store.update((state) => ({ ...state, identities: withEntry(state.identities, name, record) }));
        return identityView(record);
      }),
    getIdentity(name) {
      const record = store.current().identities[name];
      return record ? identityView(record) : undefined;
    },
    deleteIdentity: (name) =>
      locked('identities', name, async () => {
        if (!store.current().identities[name]) return false;
        await store.update((state) => ({ ...state, identities: withEntry(state.identities, name, undefined) }));
        return true;
      }),

    putStorageAccount: (name, input) =>
      locked('storageAccounts', name, async () => {
        checkName('storageAccounts', name);
        checkTenant(input.tenantId);
        const layout = {
          tables: [...(input.layout?.tables ?? [])],
          queues: [...(input.layout?.queues ?? [])],
          containers: [...(input.layout?.containers ?? [])],
        };
        for (const table of layout.tables) {
          if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(table)) throw new InvalidResourceRequestError(`invalid table name ${JSON.stringify(table)}`);
        }
        for (const other of [...layout.queues, ...layout.containers]) {
          if (!storageObjectName.test(other)) throw new InvalidResourceRequestError(`invalid queue or container name ${JSON.stringify(other)}`);
        }
        const existing = store.current().storageAccounts[name];
        checkOwner('storageAccounts', name, existing, input.tenantId);
        let record = existing;
        if (!record) {
          record = {
            name,
            tenantId: input.tenantId,
            // Azure account keys are 64 random bytes, base64.
            key: randomBytes(64).toString('base64'),
            ports: { blob: 0, queue: 0, table: 0 },
            layout,
            createdAt: iso(),
          };
          const created = record;
          await store.update((state) => ({ ...state, storageAccounts: withEntry(state.storageAccounts, name, created) }));
        } else if (JSON.stringify(record.layout) !== JSON.stringify(layout)) {
          record = { ...record, layout };
          const changed = record;
          await store.update((state) => ({ ...state, storageAccounts: withEntry(state.storageAccounts, name, changed) }));
        }
        let running = storage.get(name);
        if (running && running.azurite.pid && !isAlive(running.azurite.pid)) {
          storage.delete(name);
          running = undefined;
        }
        running = running ? { ...running, record } : await bootStorage(record);
        storage.set(name, running);
        await ensureStorageLayout(running);
        return storageView(store.current().storageAccounts[name] ?? record);
      }),
    getStorageAccount(name) {
      const record = store.current().storageAccounts[name];
      return record ? storageView(record) : undefined;
    },
    deleteStorageAccount: (name) =>
      locked('storageAccounts', name, async () => {
        const record = store.current().storageAccounts[name];
        if (!record) return false;
        await removeStorageAccount(options.stateDir, storage.get(name), record);
        storage.delete(name);
        await store.update((state) => ({ ...state, storageAccounts: withEntry(state.storageAccounts, name, undefined) }));
        await removeTenantDirIfEmpty(record.tenantId);
        return true;
      }),

    putVault: (name, input) =>
      locked('vaults', name, async () => {
        checkName('vaults', name);
        if (input.tenantId !== platformOwner) checkTenant(input.tenantId);
        if (!Array.isArray(input.readers) || !input.readers.every((r) => typeof r === 'string' && r.length > 0)) {
          throw new InvalidResourceRequestError('readers must be a list of client ids');
        }
        const existing = store.current().vaults[name];
        checkOwner('vaults', name, existing, input.tenantId);
        const readers = [...input.readers].sort();
        if (!existing) {
          const record: VaultRecord = { name, tenantId: input.tenantId, port: 0, readers, secrets: {}, createdAt: iso() };
          await store.update((state) => ({ ...state, vaults: withEntry(state.vaults, name, record) }));
        } else if (JSON.stringify(existing.readers) !== JSON.stringify(readers)) {
          await store.update((state) => ({ ...state, vaults: withEntry(state.vaults, name, { ...existing, readers }) }));
        }
        if (!vaultServers.has(name)) await bootVault(store.current().vaults[name] as VaultRecord);
        return vaultView(store.current().vaults[name] as VaultRecord);
      }),
    getVault(name) {
      const record = store.current().vaults[name];
      return record ? vaultView(record) : undefined;
    },
    deleteVault: (name) =>
      locked('vaults', name, async () => {
        const record = store.current().vaults[name];
        if (!record) return false;
        await vaultServers.get(name)?.close();
        vaultServers.delete(name);
        await store.update((state) => ({ ...state, vaults: withEntry(state.vaults, name, undefined) }));
        return true;
      }),

    putVaultSecret: (vault, secret, value) =>
      locked('vaults', vault, async () => {
        const record = store.current().vaults[vault];
        if (!record) throw new ResourceNotFoundError(`vault ${vault} does not exist`);
        const newest = getSecret(record, secret);
        if (newest?.value === value) return { version: newest.version };
        let version = '';
        await store.update((state) => {
          const current = state.vaults[vault] as VaultRecord;
          const result = setSecret(current, secret, { value }, now());
          version = result.version.version;
          return { ...state, vaults: withEntry(state.vaults, vault, result.vault) };
        });
        return { version };
      }),
    getVaultSecret(vault, secret) {
      const record = store.current().vaults[vault];
      const found = record ? getSecret(record, secret) : undefined;
      return found ? { value: found.value, version: found.version } : undefined;
    },
    deleteVaultSecret: (vault, secret) =>
      locked('vaults', vault, async () => {
        const record = store.current().vaults[vault];
        if (!record || !getSecret(record, secret)) return false;
        await store.update((state) => {
          const current = state.vaults[vault];
          return current ? { ...state, vaults: withEntry(state.vaults, vault, deleteSecret(current, secret).vault) } : state;
        });
        return true;
      }),

    putFunctionRuntime: (name, input) =>
      locked('functionRuntimes', name, async () => {
        checkName('functionRuntimes', name);
        checkTenant(input.tenantId);
        const settings = input.settings;
        if (typeof settings !== 'object' || settings === null || !Object.entries(settings).every(([k, v]) => /^[A-Z][A-Z0-9_]*$/.test(k) && typeof v === 'string')) {
          throw new InvalidResourceRequestError('settings must map UPPER_CASE names to strings');
        }
        const existing = store.current().functionRuntimes[name];
        checkOwner('functionRuntimes', name, existing, input.tenantId);
        const changed = !existing || JSON.stringify(existing.settings) !== JSON.stringify(settings);
        const record: FunctionRuntimeRecord = existing
          ? { ...existing, settings }
          : { name, tenantId: input.tenantId, port: await freePort(options.host), settings, createdAt: iso() };
        if (changed) await store.update((state) => ({ ...state, functionRuntimes: withEntry(state.functionRuntimes, name, record) }));
        if (changed || !options.runtimes.status(name).running) await options.runtimes.start(record);
        return runtimeView(record);
      }),
    getFunctionRuntime(name) {
      const record = store.current().functionRuntimes[name];
      return record ? runtimeView(record) : undefined;
    },
    deleteFunctionRuntime: (name) =>
      locked('functionRuntimes', name, async () => {
        const record = store.current().functionRuntimes[name];
        if (!record) return false;
        await options.runtimes.stop(name);
        await store.update((state) => ({ ...state, functionRuntimes: withEntry(state.functionRuntimes, name, undefined) }));
        await rm(path.join(options.stateDir, 'tenants', record.tenantId, 'runtime.log'), { force: true });
        await removeTenantDirIfEmpty(record.tenantId);
        return true;
      }),

    async startAll() {
      const state = store.current();
      const limit = pLimit(4);
      await Promise.all(Object.values(state.vaults).map((record) => bootVault(record)));
      await Promise.all(Object.values(state.storageAccounts).map((record) => limit(() => bootStorage(record))));
      const results = await Promise.allSettled(Object.values(state.functionRuntimes).map((record) => limit(() => options.runtimes.start(record))));
      for (const result of results) {
        // A runtime that cannot start now is reported by `reconcile`; the manager still starts.
        if (result.status === 'rejected') log.error({ err: result.reason }, 'a tenant runtime did not come back');
      }
    },
    async stopAll() {
      await options.runtimes.stopAll();
      await Promise.all([...storage.values()].map((s) => s.azurite.stop()));
      storage.clear();
      await Promise.all([...vaultServers.values()].map((v) => v.close()));
      vaultServers.clear();
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port free now on `host`; recorded so the runtime keeps it across restarts. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
