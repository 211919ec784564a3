/**
 * How the operator CLI finds the running local platform: `<state dir>/platform.json`, written at
 * start and removed at stop. It holds endpoints and the process id only — no key, no token; for
 * Azurite's well-known development account the CLI knows the (public) key itself, any other
 * account needs `ZEKT_STORAGE_CONNECTION_STRING`.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { devStoreAccount } from './azurite/start-azurite.ts';

export interface PlatformDiscovery {
  readonly pid: number;
  readonly startedAt: string;
  readonly storage: { readonly accountName: string; readonly blobEndpoint: string; readonly queueEndpoint: string; readonly tableEndpoint: string };
  readonly resourceManagerUrl: string;
}

/** No running local platform could be found (or it cannot be reached without a setting). */
export class PlatformUnavailableError extends Error {
  override name = 'PlatformUnavailableError';
}

const file = (stateDir: string) => path.join(path.resolve(stateDir), 'platform.json');

function fields(connectionString: string): Record<string, string> {
  return Object.fromEntries(
    connectionString
      .split(';')
      .filter((part) => part.includes('='))
      .map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]),
  );
}

export async function writePlatformDiscovery(stateDir: string, connectionString: string, resourceManagerUrl: string): Promise<() => Promise<void>> {
  const f = fields(connectionString);
  const discovery: PlatformDiscovery = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    storage: {
      accountName: f.AccountName ?? '',
      blobEndpoint: f.BlobEndpoint ?? '',
      queueEndpoint: f.QueueEndpoint ?? '',
      tableEndpoint: f.TableEndpoint ?? '',
    },
    resourceManagerUrl,
  };
  await writeFile(file(stateDir), `${JSON.stringify(discovery, null, 2)}\n`, { mode: 0o600 });
  return () => rm(file(stateDir), { force: true });
}

/** The running local platform's discovery file; `PlatformUnavailableError` when none runs. */
export async function readPlatformDiscovery(stateDir: string): Promise<PlatformDiscovery> {
  let discovery: PlatformDiscovery;
  try {
    discovery = JSON.parse(await readFile(file(stateDir), 'utf8')) as PlatformDiscovery;
  } catch (err) {
    throw new PlatformUnavailableError(`no local platform is running (no ${file(stateDir)}): start it with \`npm start\`, or set ZEKT_STORAGE_CONNECTION_STRING`, { cause: err });
  }
  try {
    process.kill(discovery.pid, 0);
  } catch (err) {
    throw new PlatformUnavailableError(`the local platform (pid ${discovery.pid}) is not running: start it with \`npm start\``, { cause: err });
  }
  return discovery;
}

/** The running platform's storage connection string (development account only). */
export async function discoverPlatformStorage(stateDir: string): Promise<string> {
  const discovery = await readPlatformDiscovery(stateDir);
  if (discovery.storage.accountName !== devStoreAccount.name) {
    throw new PlatformUnavailableError('the local platform uses its own storage account: set ZEKT_STORAGE_CONNECTION_STRING');
  }
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${devStoreAccount.name}`,
    `AccountKey=${devStoreAccount.key}`,
    `BlobEndpoint=${discovery.storage.blobEndpoint}`,
    `QueueEndpoint=${discovery.storage.queueEndpoint}`,
    `TableEndpoint=${discovery.storage.tableEndpoint}`,
    '',
  ].join(';');
}
