/**
 * The shared Azurite fixture: one in-memory Azurite per test process, on free ports, started on
 * first use and stopped when mocha exits. Each test takes its own names (`uniqueName`) so tests
 * never see each other's tables or queues.
 */
import { randomBytes } from 'node:crypto';
import { startAzurite, type AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';

// On globalThis: mocha may load this file once as a root-hook plugin and once as a test import.
const holder = globalThis as { zektSharedAzurite?: Promise<AzuriteInstance> };

export function sharedAzurite(): Promise<AzuriteInstance> {
  holder.zektSharedAzurite ??= startAzurite();
  return holder.zektSharedAzurite;
}

export async function sharedStorage(): Promise<Storage> {
  const azurite = await sharedAzurite();
  return createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
}

/** A name valid for tables, queues and containers alike: lowercase letters and digits. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export const mochaHooks = {
  async afterAll() {
    if (holder.zektSharedAzurite) await (await holder.zektSharedAzurite).stop();
  },
};
