/**
 * Everything `npm start` runs, as one function (the end-to-end test calls it too): Azurite with
 * its data under `.zekt/`, then the platform's function table on the local host. Returns the URLs
 * and one `stop()` that ends them in reverse order.
 */
import path from 'node:path';
import { loadConfig } from '../runtime/config.ts';
import { createLogger, type Logger } from '../runtime/core/logger.ts';
import { zektVersion } from '../runtime/core/version.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { createLocalHost } from '../runtime/local-host/create-local-host.ts';
import { createPlatformFunctions } from '../runtime/platform/platform-functions.ts';
import { startAzurite } from './azurite/start-azurite.ts';

export interface LocalPlatformOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder for local state (Azurite data, engine state); `.zekt` by default. */
  readonly stateDir?: string;
  /** Keep Azurite in memory instead of under `stateDir` (tests). */
  readonly inMemory?: boolean;
  readonly log?: Logger;
}

export interface LocalPlatform {
  readonly platformUrl: string;
  readonly storage: { readonly blob: string; readonly queue: string; readonly table: string };
  stop(): Promise<void>;
}

export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const stateDir = path.resolve(options.stateDir ?? '.zekt');
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  try {
    const azurite = await startAzurite(options.inMemory ? {} : { location: path.join(stateDir, 'azurite') });
    stops.push(() => azurite.stop());
    const config = loadConfig({ ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(), ...options.env });
    const log = options.log ?? createLogger({ level: config.logLevel });
    const storage = createStorage(config.storage);
    const host = await createLocalHost({
      table: createPlatformFunctions({ config, storage, log, version: zektVersion }),
      storage,
      log,
      host: config.host,
      port: config.port,
    });
    stops.push(() => host.close());
    return {
      platformUrl: host.url,
      storage: {
        blob: `http://${azurite.host}:${azurite.blobPort}`,
        queue: `http://${azurite.host}:${azurite.queuePort}`,
        table: `http://${azurite.host}:${azurite.tablePort}`,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
