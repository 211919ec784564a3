/**
 * Starts Azurite (npm `azurite`) as a child process on loopback, telemetry off, API-version check
 * skipped. On port 0 the combined `azurite` entry prints the real ports, which we read from its
 * output, so parallel test runs never collide. `stop()` ends it cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Azurite's well-known development account, used when no accounts are given. */
export const devStoreAccount = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
} as const;

export interface StorageAccount {
  readonly name: string;
  /** Base64 account key. */
  readonly key: string;
}

export interface StartAzuriteOptions {
  /** Keep data in memory (tests) or under this folder (`npm start`). */
  readonly location?: string;
  /**
   * Accounts Azurite serves (`AZURITE_ACCOUNTS`). Setting them disables `devstoreaccount1`;
   * Azurite reads them at start and every 60 s from its own environment.
   */
  readonly accounts?: readonly StorageAccount[];
  readonly host?: string;
  /** 0 (default) picks free ports. */
  readonly ports?: { blob: number; queue: number; table: number };
  readonly startTimeoutMs?: number;
}

export interface AzuriteInstance {
  readonly host: string;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly tablePort: number;
  readonly accounts: readonly StorageAccount[];
  readonly pid: number;
  /** Connection string for one account (the first by default), http endpoints with the account in the path. */
  connectionString(account?: StorageAccount): string;
  stop(): Promise<void>;
}

const listening = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^:]+:(\d+)/g;

export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const host = options.host ?? '127.0.0.1';
  const accounts = options.accounts?.length ? options.accounts : [devStoreAccount];
  const ports = options.ports ?? { blob: 0, queue: 0, table: 0 };
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const args = [
    entry,
    '--blobHost', host, '--blobPort', String(ports.blob),
    '--queueHost', host, '--queuePort', String(ports.queue),
    '--tableHost', host, '--tablePort', String(ports.table),
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--silent',
  ];
  if (options.location) {
    await mkdir(options.location, { recursive: true });
    args.push('--location', path.resolve(options.location));
  } else {
    args.push('--inMemoryPersistence');
  }
  // Azurite gets only what it is told (no inherited setting or credential): its accounts, if any.
  const env: Record<string, string> = options.accounts?.length ? { AZURITE_ACCOUNTS: options.accounts.map((a) => `${a.name}:${a.key}`).join(';') } : {};

  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const found: Partial<Record<'Blob' | 'Queue' | 'Table', number>> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within ${options.startTimeoutMs ?? 30000} ms:\n${output}`));
    }, options.startTimeoutMs ?? 30000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(listening)) found[m[1] as 'Blob'] = Number(m[2]);
      if (found.Blob && found.Queue && found.Table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited before it was ready (code ${code}, signal ${signal}):\n${output}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error('could not start Azurite', { cause: err }));
    });
  });
  // Never outlive the process that started it, even when that process exits without stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  // Keep draining output so a full pipe never stalls Azurite.
  child.stdout.resume();
  child.stderr.resume();

  const instance = {
    host,
    blobPort: found.Blob as number,
    queuePort: found.Queue as number,
    tablePort: found.Table as number,
    accounts,
    pid: child.pid as number,
    connectionString(account: StorageAccount = accounts[0] as StorageAccount) {
      const base = `http://${host}`;
      return [
        'DefaultEndpointsProtocol=http',
        `AccountName=${account.name}`,
        `AccountKey=${account.key}`,
        `BlobEndpoint=${base}:${instance.blobPort}/${account.name}`,
        `QueueEndpoint=${base}:${instance.queuePort}/${account.name}`,
        `TableEndpoint=${base}:${instance.tablePort}/${account.name}`,
        '',
      ].join(';');
    },
    stop: () => stopChild(child),
  };
  return instance;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
