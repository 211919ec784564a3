/**
 * The per-installation rate budget for content-creating requests (`repository_dispatch`), held in
 * storage so every runtime instance spends the same one: on Azure the runtime scales out.
 *
 * GitHub's secondary rate limits apply per installation: at most 80 content-creating requests a
 * minute and 500 an hour (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits).
 * The budget is a sliding log: one row per installation (`budget` / `<installationId>` in the
 * `deliveries` table) holds the times of the requests of the last hour. A request may go when
 * fewer than `perMinute` went in the last minute and fewer than `perHour` in the last hour; the
 * time is appended under the row's ETag, so two instances can never both take the last slot.
 * Sliding windows, not fixed ones: a fixed minute lets twice the budget through across its edge.
 *
 * Each window is counted `marginMs` longer than it is: a request reaches GitHub a little after its
 * slot was taken, and two requests' delays differ, so the log must be stricter than GitHub's clock.
 * A 403/429 from GitHub pauses the whole installation (`pausedUntil`) for every instance.
 *
 * Group commit: the dispatches of one process that ask at the same time share one read and one
 * write of the row (a burst of 200 costs a handful of round trips, not 400). The log stays small
 * however high the budget: a request's time is rounded up to a thousandth of the minute window
 * while it is in the minute, and to a thousandth of the hour after that, and equal times are kept
 * once with a count (`<time>*<count>`). Rounding up only ever counts a request longer, never shorter.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';

export interface RateBudgetOptions {
  readonly table: TableClient;
  /** Requests per minute window (GitHub: 80). */
  readonly perMinute: number;
  /** Requests per hour window (GitHub: 500). */
  readonly perHour: number;
  /** Window lengths; the defaults are a minute and an hour (the benchmark scales them down). */
  readonly minuteMs?: number;
  readonly hourMs?: number;
  /** Added to each window (1 s by default). */
  readonly marginMs?: number;
  readonly now?: () => number;
}

export type BudgetAnswer = { readonly granted: true } | { readonly granted: false; readonly waitMs: number };

type Row = { partitionKey: string; rowKey: string; stamps: string; pausedUntil: number; etag?: string };

/** Request times, ascending, with how many requests share each. */
type Log = [at: number, count: number][];

const parseLog = (text: string): Log =>
  text
    ? text
        .split(',')
        .map((entry): [number, number] => {
          const [at, count] = entry.split('*');
          return [parseInt(at as string, 36), count ? parseInt(count, 36) : 1];
        })
        .sort((a, b) => a[0] - b[0])
    : [];
const formatLog = (log: Log) => log.map(([at, count]) => (count === 1 ? at.toString(36) : `${at.toString(36)}*${count.toString(36)}`)).join(',');
const countOf = (log: Log) => log.reduce((n, [, c]) => n + c, 0);

/** Milliseconds from `at` until the log holds fewer than `limit` requests after `at - window`. */
function waitFor(log: Log, limit: number, window: number, at: number): number {
  let count = countOf(log);
  for (const [stamp, n] of log) {
    count -= n;
    if (count < limit) return Math.max(1, stamp + window - at);
  }
  return 1;
}

export function createRateBudget(options: RateBudgetOptions) {
  const now = options.now ?? Date.now;
  const minute = (options.minuteMs ?? 60_000) + (options.marginMs ?? 1000);
  const hour = (options.hourMs ?? 3_600_000) + (options.marginMs ?? 1000);
  const fine = Math.max(1, Math.ceil((options.minuteMs ?? 60_000) / 1000));
  const coarse = Math.max(fine, Math.ceil((options.hourMs ?? 3_600_000) / 1000));
  // One taker at a time per installation in this process: instances still race through the ETag,
  // but a process's own parallel dispatches do not fight over the row.
  const queues = new Map<number, Promise<unknown>>();
  // Callers waiting for the next group commit, per installation.
  const waiting = new Map<number, ((answer: BudgetAnswer) => void)[]>();

  async function read(installationId: number): Promise<{ log: Log; pausedUntil: number; etag?: string }> {
    try {
      const row = await options.table.getEntity<Row>('budget', String(installationId));
      return { log: parseLog(row.stamps), pausedUntil: Number(row.pausedUntil) || 0, etag: row.etag ?? '*' };
    } catch (err) {
      if (statusOf(err) === 404) return { log: [], pausedUntil: 0 };
      throw err;
    }
  }

  async function write(installationId: number, log: Log, pausedUntil: number, etag: string | undefined): Promise<boolean> {
    const entity = { partitionKey: 'budget', rowKey: String(installationId), stamps: formatLog(log), pausedUntil };
    try {
      if (etag) await options.table.updateEntity(entity, 'Replace', { etag });
      else await options.table.createEntity(entity);
      return true;
    } catch (err) {
      if (statusOf(err) === 409 || statusOf(err) === 412) return false;
      throw err;
    }
  }

  /** Drops what left the hour, coarsens what left the minute, merges equal times. */
  function compact(log: Log, at: number): Log {
    const merged = new Map<number, number>();
    for (const [stamp, count] of log) {
      if (stamp <= at - hour) continue;
      // Coarsened only once out of the minute for good, so a rounded time never counts in it again.
      const kept = stamp > at - minute - coarse ? stamp : Math.ceil(stamp / coarse) * coarse;
      merged.set(kept, (merged.get(kept) ?? 0) + count);
    }
    return [...merged.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Grants as many of `wanted` slots as the budget has now, in one read and one write. */
  async function take(installationId: number, wanted: number): Promise<{ granted: number; waitMs: number }> {
    for (;;) {
      const current = await read(installationId);
      const at = now();
      if (current.pausedUntil > at) return { granted: 0, waitMs: current.pausedUntil - at };
      const log = compact(current.log, at);
      const inMinute = log.filter(([stamp]) => stamp > at - minute);
      const free = Math.min(options.perMinute - countOf(inMinute), options.perHour - countOf(log));
      const granted = Math.max(0, Math.min(wanted, free));
      if (granted > 0) {
        const stamp = Math.ceil(at / fine) * fine;
        const last = log[log.length - 1];
        if (last && last[0] === stamp) last[1] += granted;
        else log.push([stamp, granted]);
        if (!(await write(installationId, log, current.pausedUntil, current.etag))) continue;
      }
      const after = log.filter(([stamp]) => stamp > at - minute);
      const waitMs =
        granted === wanted
          ? 0
          : countOf(after) >= options.perMinute
            ? waitFor(after, options.perMinute, minute, at)
            : waitFor(log, options.perHour, hour, at);
      return { granted, waitMs };
    }
  }

  function serial<T>(installationId: number, fn: () => Promise<T>): Promise<T> {
    const result = (queues.get(installationId) ?? Promise.resolve()).then(fn, fn);
    const settled = result.catch(() => undefined);
    queues.set(installationId, settled);
    void settled.then(() => {
      if (queues.get(installationId) === settled) queues.delete(installationId);
    });
    return result;
  }

  /** Everyone who asked since the last commit is answered by the next one. */
  function commit(installationId: number): Promise<void> {
    return serial(installationId, async () => {
      const callers = waiting.get(installationId) ?? [];
      waiting.delete(installationId);
      if (callers.length === 0) return;
      try {
        const { granted, waitMs } = await take(installationId, callers.length);
        callers.forEach((resolve, i) => resolve(i < granted ? { granted: true } : { granted: false, waitMs }));
      } catch (err) {
        // Each caller sees the failure (its dispatch is retried); the budget was not spent.
        callers.forEach((resolve) => resolve(Promise.reject(err) as never));
      }
    });
  }

  return {
    /** Takes one slot now, or says how long until one frees up. */
    acquire: (installationId: number): Promise<BudgetAnswer> =>
      new Promise<BudgetAnswer>((resolve, reject) => {
        const callers = waiting.get(installationId) ?? [];
        callers.push((answer) => Promise.resolve(answer).then(resolve, reject));
        waiting.set(installationId, callers);
        if (callers.length === 1) void commit(installationId);
      }),

    /** GitHub said the installation is limited: nobody sends for it before `until` (epoch ms). */
    pause: (installationId: number, until: number): Promise<void> =>
      serial(installationId, async () => {
        for (;;) {
          const current = await read(installationId);
          if (current.pausedUntil >= until) return;
          if (await write(installationId, current.log, until, current.etag)) return;
        }
      }),

    /** The request times in the log, one per request (tests, benchmark). */
    async stamps(installationId: number): Promise<number[]> {
      return (await read(installationId)).log.flatMap(([at, count]) => Array.from({ length: count }, () => at));
    },
  };
}

export type RateBudget = ReturnType<typeof createRateBudget>;
