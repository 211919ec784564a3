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
 * A short wait (up to `holdMs`) is spent in process, in the installation's line, instead of being
 * handed back: the slot is taken as soon as it frees, and the takers behind wait their turn in
 * order rather than each coming back as a delayed message to read the row again. A taker whose
 * turn would come later than that (slot-wait.ts, from the log this process last saw) is answered
 * at once, so waiting takers never fill the queue trigger's slots for long. The line is this
 * process's alone; the write under the ETag still decides between instances, so the hold changes
 * when a slot is taken, never how many.
 *
 * A slot usually costs one request: each process keeps the row as it last read or wrote it, ETag
 * included, and writes over that copy without reading it first. The copy is only as good as its
 * ETag: if another instance wrote meanwhile, the write is refused (412) and the row is read
 * afresh, so a slot is only ever taken over the current log, as with a read just before. A "no"
 * is never answered from the copy (another instance's clock may have dropped stamps it holds):
 * the row is read first, as it always was.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';
import { slotWait, type BudgetLog } from './slot-wait.ts';

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
  /** The longest wait for a slot spent in process before `acquire` answers "wait" (ms, 1 s by default). */
  readonly holdMs?: number;
  readonly now?: () => number;
}

export type BudgetAnswer = { readonly granted: true } | { readonly granted: false; readonly waitMs: number };

type Row = { partitionKey: string; rowKey: string; stamps: string; pausedUntil: number; etag?: string };
type Log = { stamps: number[]; pausedUntil: number; etag?: string };

export function createRateBudget(options: RateBudgetOptions) {
  const now = options.now ?? Date.now;
  const minute = (options.minuteMs ?? 60_000) + (options.marginMs ?? 1000);
  const hour = (options.hourMs ?? 3_600_000) + (options.marginMs ?? 1000);
  const holdMs = options.holdMs ?? 1000;
  // One taker at a time per installation in this process: instances still race through the ETag,
  // but a process's own parallel dispatches do not fight over the row.
  const queues = new Map<number, Promise<unknown>>();
  // Takers in this process's line per installation, and the log it last read or wrote: only to
  // estimate a newcomer's turn (a stale log misjudges a wait, never grants a slot).
  const inLine = new Map<number, number>();
  const lastSeen = new Map<number, BudgetLog>();
  const windows = [
    { lengthMs: minute, limit: options.perMinute },
    { lengthMs: hour, limit: options.perHour },
  ];
  // Each row as this process last read or wrote it (see above); only used under its ETag.
  const copies = new Map<number, Log>();

  async function read(installationId: number): Promise<Log> {
    try {
      const row = await options.table.getEntity<Row>('budget', String(installationId));
      const log = { stamps: row.stamps ? row.stamps.split(',').map((s) => parseInt(s, 36)).sort((a, b) => a - b) : [], pausedUntil: Number(row.pausedUntil) || 0, etag: row.etag ?? '*' };
      copies.set(installationId, log);
      return log;
    } catch (err) {
      if (statusOf(err) === 404) return { stamps: [], pausedUntil: 0 };
      throw err;
    }
  }

  async function write(installationId: number, stamps: number[], pausedUntil: number, etag: string | undefined): Promise<boolean> {
    const entity = { partitionKey: 'budget', rowKey: String(installationId), stamps: stamps.map((s) => s.toString(36)).join(','), pausedUntil };
    try {
      const result = etag ? await options.table.updateEntity(entity, 'Replace', { etag }) : await options.table.createEntity(entity);
      if (result.etag) copies.set(installationId, { stamps, pausedUntil, etag: result.etag });
      else copies.delete(installationId);
      return true;
    } catch (err) {
      copies.delete(installationId);
      if (statusOf(err) === 409 || statusOf(err) === 412) return false;
      throw err;
    }
  }

  async function take(installationId: number): Promise<BudgetAnswer> {
    for (;;) {
      const copy = copies.get(installationId);
      const current = copy ?? (await read(installationId));
      lastSeen.set(installationId, current);
      const at = now();
      let denied: BudgetAnswer | undefined;
      const stamps = current.stamps.filter((s) => s > at - hour);
      const inMinute = stamps.filter((s) => s > at - minute);
      if (current.pausedUntil > at) denied = { granted: false, waitMs: current.pausedUntil - at };
      else if (inMinute.length >= options.perMinute) denied = { granted: false, waitMs: (inMinute[inMinute.length - options.perMinute] as number) + minute - at };
      else if (stamps.length >= options.perHour) denied = { granted: false, waitMs: (stamps[stamps.length - options.perHour] as number) + hour - at };
      if (denied) {
        if (!copy) return denied;
        // Said by the copy: asked again of the row itself.
        copies.delete(installationId);
        continue;
      }
      stamps.push(at);
      if (await write(installationId, stamps, current.pausedUntil, current.etag)) {
        lastSeen.set(installationId, { stamps, pausedUntil: current.pausedUntil });
        return { granted: true };
      }
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

  return {
    /** Takes one slot, waiting up to `holdMs` for it, or says how long until one frees up. */
    async acquire(installationId: number): Promise<BudgetAnswer> {
      const ahead = inLine.get(installationId) ?? 0;
      const seen = lastSeen.get(installationId);
      if (ahead > 0 && seen) {
        const waitMs = slotWait(seen, windows, now(), ahead);
        if (waitMs > holdMs) return { granted: false, waitMs };
      }
      inLine.set(installationId, ahead + 1);
      try {
        return await serial(installationId, async () => {
          // Counted in waits slept, not on `now`: a test's pinned clock cannot hold a taker forever.
          let held = 0;
          for (;;) {
            const answer = await take(installationId);
            if (answer.granted || held + answer.waitMs > holdMs) return answer;
            await new Promise((resolve) => setTimeout(resolve, answer.waitMs));
            held += answer.waitMs;
          }
        });
      } finally {
        const left = (inLine.get(installationId) ?? 1) - 1;
        if (left > 0) inLine.set(installationId, left);
        else inLine.delete(installationId);
      }
    },

    /** GitHub said the installation is limited: nobody sends for it before `until` (epoch ms). */
    pause: (installationId: number, until: number): Promise<void> =>
      serial(installationId, async () => {
        for (;;) {
          const current = await read(installationId);
          if (current.pausedUntil >= until) return;
          if (await write(installationId, current.stamps, until, current.etag)) return;
        }
      }),

    /** The request times in the log (tests, benchmark). */
    async stamps(installationId: number): Promise<number[]> {
      return (await read(installationId)).stamps;
    },
  };
}

export type RateBudget = ReturnType<typeof createRateBudget>;
