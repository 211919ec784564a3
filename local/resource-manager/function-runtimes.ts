/**
 * Local function runtimes: each tenant's handlers (runtime/tenant/tenant-functions.ts) in their
 * own Node process on their own port, started with nothing but that tenant's app settings (no
 * inherited environment: no platform setting or credential can leak in), and restarted with
 * backoff if the process dies. Output goes to the tenant's `runtime.log`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../runtime/core/logger.ts';
import type { FunctionRuntimeRecord } from './resource-manager-state.ts';

/** Seconds between restarts of a runtime that keeps dying; the last value repeats. */
const restartBackoffSeconds = [0.5, 1, 2, 5, 10, 30];
/** A runtime up this long has recovered: the backoff starts over. */
const healthyAfterMs = 60_000;

const here = fileURLToPath(new URL('.', import.meta.url));
const projectRoot = path.resolve(here, '../..');
// Source runs under tsx (tests, npm start); a build runs the compiled entry with plain Node.
const compiled = import.meta.url.endsWith('.js');
const entry = path.join(projectRoot, 'runtime', 'tenant', `start-tenant-runtime.${compiled ? 'js' : 'ts'}`);

export class RuntimeStartError extends Error {
  override name = 'RuntimeStartError';
}

export interface RuntimeStatus {
  readonly running: boolean;
  readonly pid?: number;
  readonly restarts: number;
}

export interface RuntimeSupervisor {
  /** Starts (or restarts with new settings) and resolves once `/api/health` answers. */
  start(record: FunctionRuntimeRecord): Promise<{ readonly url: string; readonly pid: number }>;
  stop(name: string): Promise<void>;
  status(name: string): RuntimeStatus;
  stopAll(): Promise<void>;
}

interface Supervised {
  record: FunctionRuntimeRecord;
  child?: ChildProcess;
  restarts: number;
  failures: number;
  stopping: boolean;
  restartTimer?: NodeJS.Timeout;
  log: WriteStream;
}

export function createRuntimeSupervisor(options: {
  readonly stateDir: string;
  readonly host: string;
  readonly caFile: string;
  readonly log: Logger;
  readonly startTimeoutMs?: number;
}): RuntimeSupervisor {
  const supervised = new Map<string, Supervised>();
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  const killAll = () => {
    for (const s of supervised.values()) s.child?.kill('SIGKILL');
  };
  // Never leave a tenant process behind, even when the manager's process exits without stop().
  process.once('exit', killAll);

  function url(record: FunctionRuntimeRecord): string {
    return `http://${options.host}:${record.port}`;
  }

  function spawnChild(s: Supervised): ChildProcess {
    const env: Record<string, string> = {
      ...s.record.settings,
      ZEKT_HOST: options.host,
      ZEKT_PORT: String(s.record.port),
      // The local vault's self-signed certificate, trusted by this process only.
      NODE_EXTRA_CA_CERTS: options.caFile,
    };
    const args = compiled ? [entry] : ['--import', 'tsx', entry];
    const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(s.log, { end: false });
    child.stderr?.pipe(s.log, { end: false });
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (s.child === child) s.child = undefined;
      if (s.stopping) return;
      s.failures = Date.now() - startedAt > healthyAfterMs ? 1 : s.failures + 1;
      const delay = restartBackoffSeconds[Math.min(s.failures - 1, restartBackoffSeconds.length - 1)] as number;
      options.log.warn({ tenantId: s.record.tenantId, runtime: s.record.name, code, signal, restartInSeconds: delay }, 'tenant runtime exited; restarting');
      s.restartTimer = setTimeout(() => {
        s.restartTimer = undefined;
        if (s.stopping) return;
        s.restarts += 1;
        s.child = spawnChild(s);
      }, delay * 1000);
    });
    return child;
  }

  async function waitHealthy(s: Supervised, child: ChildProcess): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new RuntimeStartError(`tenant runtime ${s.record.name} exited while starting (see ${path.join(tenantDir(s.record), 'runtime.log')})`);
      }
      try {
        const res = await fetch(`${url(s.record)}/api/health`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new RuntimeStartError(`tenant runtime ${s.record.name} did not answer within ${startTimeoutMs} ms`);
  }

  function tenantDir(record: FunctionRuntimeRecord): string {
    return path.join(options.stateDir, 'tenants', record.tenantId);
  }

  async function stopOne(s: Supervised): Promise<void> {
    s.stopping = true;
    if (s.restartTimer) clearTimeout(s.restartTimer);
    const child = s.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    s.log.end();
  }

  return {
    async start(record) {
      const existing = supervised.get(record.name);
      if (existing) {
        supervised.delete(record.name);
        await stopOne(existing);
      }
      await mkdir(tenantDir(record), { recursive: true, mode: 0o700 });
      const s: Supervised = {
        record,
        restarts: 0,
        failures: 0,
        stopping: false,
        log: createWriteStream(path.join(tenantDir(record), 'runtime.log'), { flags: 'a', mode: 0o600 }),
      };
      supervised.set(record.name, s);
      const child = spawnChild(s);
      s.child = child;
      try {
        await waitHealthy(s, child);
      } catch (err) {
        supervised.delete(record.name);
        await stopOne(s);
        throw err;
      }
      return { url: url(record), pid: child.pid as number };
    },
    async stop(name) {
      const s = supervised.get(name);
      if (!s) return;
      supervised.delete(name);
      await stopOne(s);
    },
    status(name) {
      const s = supervised.get(name);
      if (!s) return { running: false, restarts: 0 };
      const running = Boolean(s.child && s.child.exitCode === null && s.child.signalCode === null);
      return { running, ...(running && s.child?.pid ? { pid: s.child.pid } : {}), restarts: s.restarts };
    },
    async stopAll() {
      const all = [...supervised.values()];
      supervised.clear();
      await Promise.all(all.map(stopOne));
      process.removeListener('exit', killAll);
    },
  };
}
