/**
 * The shared Azurite fixture: one in-memory Azurite per test file's process, on free ports, started
 * on first use and stopped after the file (mocha runs root hooks once per file in parallel mode, so
 * the next file in the same worker starts a fresh one). Each test takes its own names
 * (`uniqueName`) so tests never see each other's tables or queues — or, where the code under test
 * uses fixed names, its own storage account (`isolatedAzurite`).
 */
import { randomBytes } from 'node:crypto';
import { devStoreAccount, startAzurite, type AzuriteInstance, type StorageAccount } from '../../local/azurite/start-azurite.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';

/** Accounts one Azurite serves besides the development account; more are a second Azurite. */
const accountsPerAzurite = 48;

interface Pool {
  readonly azurite: Promise<AzuriteInstance>;
  readonly accounts: readonly StorageAccount[];
  handedOut: number;
}

// On globalThis: mocha may load this file once as a root-hook plugin and once as a test import.
const holder = globalThis as { zektSharedAzurite?: Pool[] };

function newPool(): Pool {
  const accounts = Array.from({ length: accountsPerAzurite }, (_, i) => ({ name: `isolated${i}${randomBytes(3).toString('hex')}`, key: randomBytes(32).toString('base64') }));
  return { azurite: startAzurite({ accounts: [devStoreAccount, ...accounts] }), accounts, handedOut: 0 };
}

function pools(): Pool[] {
  holder.zektSharedAzurite ??= [newPool()];
  return holder.zektSharedAzurite;
}

export function sharedAzurite(): Promise<AzuriteInstance> {
  return (pools()[0] as Pool).azurite;
}

export async function sharedStorage(): Promise<Storage> {
  const azurite = await sharedAzurite();
  return createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
}

/**
 * An Azurite of the test's own, as far as storage can tell: a storage account nobody else uses, on
 * the shared Azurite. Starting an Azurite per test costs seconds; an account costs nothing. Its
 * `stop()` does nothing (the shared Azurite stops after the file); a test that must stop or kill
 * storage starts its own Azurite.
 */
export async function isolatedAzurite(): Promise<AzuriteInstance> {
  const all = pools();
  let pool = all.at(-1) as Pool;
  if (pool.handedOut === pool.accounts.length) all.push((pool = newPool()));
  const account = pool.accounts[pool.handedOut++] as StorageAccount;
  const azurite = await pool.azurite;
  return {
    host: azurite.host,
    blobPort: azurite.blobPort,
    queuePort: azurite.queuePort,
    tablePort: azurite.tablePort,
    accounts: [account],
    pid: azurite.pid,
    connectionString: (other: StorageAccount = account) => azurite.connectionString(other),
    stop: async () => undefined,
  };
}

/** A name valid for tables, queues and containers alike: lowercase letters and digits. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export const mochaHooks = {
  async afterAll() {
    const running = holder.zektSharedAzurite ?? [];
    holder.zektSharedAzurite = undefined;
    await Promise.all(running.map(async (pool) => (await pool.azurite).stop()));
  },
};
