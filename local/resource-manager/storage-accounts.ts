/**
 * Local storage accounts: one Azurite process per account, serving only that account
 * (`AZURITE_ACCOUNTS=<name>:<key>`, which also disables `devstoreaccount1`), with its data under
 * the tenant's folder so it survives restarts. Why one process per tenant rather than one shared
 * Azurite with an account list: Azurite reads its account list from its own environment, so adding
 * a tenant would mean restarting the Azurite every other tenant is using; separate processes also
 * keep one tenant's data out of another's process entirely, and a destroy is "stop it, delete its
 * folder". The price is memory (about 160 MB RSS and 0.9 s to start per account, measured here;
 * see docs/control-plane.md).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startAzurite, type AzuriteInstance } from '../azurite/start-azurite.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import type { Logger } from '../../runtime/core/logger.ts';
import type { StorageAccountRecord } from './resource-manager-state.ts';
import { statusOf } from '../../runtime/storage/status-of.ts';

export interface RunningStorageAccount {
  readonly record: StorageAccountRecord;
  readonly azurite: AzuriteInstance;
  readonly endpoints: { readonly blob: string; readonly queue: string; readonly table: string };
  readonly connectionString: string;
}

export function storageAccountDir(stateDir: string, record: Pick<StorageAccountRecord, 'tenantId' | 'name'>): string {
  return path.join(stateDir, 'tenants', record.tenantId, 'storage', record.name);
}

/**
 * Starts the account's Azurite on its recorded ports (0 on first start picks free ones). When a
 * recorded port is taken now, it starts on fresh ports: the endpoints change, which `reconcile`
 * reports as drift and repairs.
 */
export async function startStorageAccount(
  stateDir: string,
  record: StorageAccountRecord,
  host: string,
  log: Logger,
): Promise<RunningStorageAccount> {
  const location = storageAccountDir(stateDir, record);
  const accounts = [{ name: record.name, key: record.key }];
  let azurite: AzuriteInstance;
  try {
    azurite = await startAzurite({ accounts, location, host, ports: record.ports });
  } catch (err) {
    if (record.ports.blob === 0) throw err;
    log.warn({ err, account: record.name, tenantId: record.tenantId }, 'recorded storage ports unavailable; starting on new ports');
    azurite = await startAzurite({ accounts, location, host });
  }
  const endpoints = {
    blob: `http://${host}:${azurite.blobPort}/${record.name}`,
    queue: `http://${host}:${azurite.queuePort}/${record.name}`,
    table: `http://${host}:${azurite.tablePort}/${record.name}`,
  };
  return { record, azurite, endpoints, connectionString: azurite.connectionString(accounts[0]) };
}

/** Creates the account's tables, queues and containers (idempotent). */
export async function ensureStorageLayout(account: RunningStorageAccount): Promise<void> {
  const storage = createStorage({ kind: 'connection-string', connectionString: account.connectionString });
  const { tables, queues, containers } = account.record.layout;
  await Promise.all([
    ...tables.map((name) =>
      storage.table(name).createTable().catch((err: unknown) => {
        // 409: the table exists, which is what we want.
        if (statusOf(err) !== 409) throw err;
      }),
    ),
    ...queues.map((name) => storage.queue(name).createIfNotExists()),
    ...containers.map((name) => storage.container(name).createIfNotExists()),
  ]);
}

/** Stops the account's Azurite and deletes its data. */
export async function removeStorageAccount(stateDir: string, account: RunningStorageAccount | undefined, record: StorageAccountRecord): Promise<void> {
  if (account) {
    // Its data is deleted next, so nothing is lost by not waiting for clients to disconnect
    // (a graceful stop waits for every keep-alive connection).
    try {
      process.kill(account.azurite.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await account.azurite.stop();
  }
  await rm(storageAccountDir(stateDir, record), { recursive: true, force: true });
}
