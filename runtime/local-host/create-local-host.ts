/**
 * The local host: serves one function table the way the Azure Functions host would — HTTP routes
 * under `/api/`, queue triggers on Azurite, timer triggers on their schedules. No Core Tools, no
 * hooks into `@azure/functions` internals: handlers get the library's public objects.
 */
import type { FunctionTable, HttpFunction, QueueFunction, TimerFunction } from '../functions/function-table.ts';
import { checkFunctionTable } from '../functions/function-table.ts';
import type { Logger } from '../core/logger.ts';
import type { Storage } from '../storage/create-storage.ts';
import { serveHttp } from './serve-http.ts';
import { pollQueue, type QueuePoller, type QueuePollerOptions } from './poll-queue.ts';
import { scheduleTimer, type TimerHandle } from './schedule-timer.ts';

export interface LocalHostOptions {
  readonly table: FunctionTable;
  readonly log: Logger;
  /** Needed when the table has queue triggers. */
  readonly storage?: Storage;
  readonly host?: string;
  readonly port?: number;
  readonly queue?: QueuePollerOptions;
  /** Timer triggers are off in tests that drive them by hand. */
  readonly timers?: boolean;
}

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  /** Waits until every queue has been polled empty (tests). */
  drainQueues(): Promise<void>;
  close(): Promise<void>;
}

export async function createLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const table = checkFunctionTable(options.table);
  const http = table.filter((f): f is HttpFunction => f.kind === 'http');
  const queues = table.filter((f): f is QueueFunction => f.kind === 'queue');
  const timers = table.filter((f): f is TimerFunction => f.kind === 'timer');
  if (queues.length && !options.storage) throw new Error('the local host needs storage for queue triggers');

  const server = await serveHttp(http, { host: options.host ?? '127.0.0.1', port: options.port ?? 0, log: options.log });
  const pollers: QueuePoller[] = queues.map((fn) => {
    const storage = options.storage as Storage;
    return pollQueue(fn, storage.queue(fn.queueName), storage.queue(`${fn.queueName}-poison`), options.log, options.queue);
  });
  const timerHandles: TimerHandle[] = options.timers === false ? [] : timers.map((fn) => scheduleTimer(fn, options.log));

  return {
    url: server.url,
    port: server.port,
    drainQueues: async () => {
      await Promise.all(pollers.map((p) => p.drain()));
    },
    async close() {
      await Promise.all([server.close(), ...pollers.map((p) => p.stop()), ...timerHandles.map((t) => t.stop())]);
    },
  };
}
