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
 * The takers of one installation in this process stand in one line, and the line is served in
 * rounds, the way the intake commits its rows: every taker that joined while a round was being
 * written is served by the next one, with one write for all of them (the dispatches of a fan-out
 * ask together: one request for their slots, not one each, and no taker waits behind another's
 * request). A round grants as many as the windows have room for, in order.
 *
 * A short wait (up to `holdMs`) is spent in process, in the line, instead of being handed back:
 * the slots are taken as soon as they free, and the takers behind wait their turn in order rather
 * than each coming back as a delayed message to read the row again. A taker whose turn would come
 * later than that (slot-wait.ts, from the log this process last saw) is answered at once, so
 * waiting takers never fill the queue trigger's slots for long. The line is this process's alone;
 * the write under the ETag still decides between instances, so the line changes when a slot is
 * taken, never how many.
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
  // Pauses of one installation, one at a time in this process (instances still race through the ETag).
  const queues = new Map<number, Promise<unknown>>();
  // The log this process last read or wrote per installation: only to estimate a taker's turn (a
  // stale log misjudges a wait, never grants a slot).
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

  /** Until the next try may find a slot: the pause, else the oldest stamp of a full window leaving it. */
  function nextSlotIn(stamps: readonly number[], pausedUntil: number, at: number): number {
    if (pausedUntil > at) return pausedUntil - at;
    const inMinute = stamps.filter((s) => s > at - minute);
    if (inMinute.length >= options.perMinute) return (inMinute[inMinute.length - options.perMinute] as number) + minute - at;
    if (stamps.length >= options.perHour) return (stamps[stamps.length - options.perHour] as number) + hour - at;
    return 0;
  }

  /** Takes up to `wanted` slots in one write; answers how many, and the wait for the next one when not all. */
  async function takeMany(installationId: number, wanted: number): Promise<{ granted: number; waitMs: number }> {
    for (;;) {
      const copy = copies.get(installationId);
      const current = copy ?? (await read(installationId));
      lastSeen.set(installationId, current);
      const at = now();
      const stamps = current.stamps.filter((s) => s > at - hour);
      const inMinute = stamps.filter((s) => s > at - minute).length;
      const room = current.pausedUntil > at ? 0 : Math.max(0, Math.min(options.perMinute - inMinute, options.perHour - stamps.length));
      const granted = Math.min(wanted, room);
      // A "no", even to some of them, is asked of the row itself, never said by the copy.
      if (granted < wanted && copy) {
        copies.delete(installationId);
        continue;
      }
      if (granted === 0) return { granted, waitMs: nextSlotIn(stamps, current.pausedUntil, at) };
      for (let i = 0; i < granted; i++) stamps.push(at);
      if (await write(installationId, stamps, current.pausedUntil, current.etag)) {
        lastSeen.set(installationId, { stamps, pausedUntil: current.pausedUntil });
        return { granted, waitMs: granted < wanted ? nextSlotIn(stamps, current.pausedUntil, at) : 0 };
      }
    }
  }

  interface Taker {
    /** Milliseconds this taker has waited in line so far (waits slept, not read off `now`). */
    held: number;
    readonly answer: (answer: BudgetAnswer) => void;
    readonly fail: (err: unknown) => void;
  }
  interface Line {
    waiting: Taker[];
    /** Takers in line, the round being written included. */
    size: number;
    serving: boolean;
  }
  const lines = new Map<number, Line>();

  /** Serves an installation's line round by round until nobody is left in it. */
  async function serve(installationId: number, line: Line): Promise<void> {
    line.serving = true;
    try {
      // Takers asking in the same turn of the event loop (a fan-out's dispatches) share the first round.
      await new Promise((resolve) => setImmediate(resolve));
      while (line.waiting.length > 0) {
        const round = line.waiting.splice(0);
        let result: { granted: number; waitMs: number };
        try {
          result = await takeMany(installationId, round.length);
        } catch (err) {
          for (const taker of round) taker.fail(err);
          continue;
        }
        for (const taker of round.slice(0, result.granted)) taker.answer({ granted: true });
        const rest = round.slice(result.granted);
        if (rest.length === 0) continue;
        // Those whose turn comes within their hold wait for it, in order; the others are told when.
        const seen = lastSeen.get(installationId) ?? { stamps: [], pausedUntil: 0 };
        const at = now();
        const staying: Taker[] = [];
        rest.forEach((taker, position) => {
          const waitMs = position === 0 ? result.waitMs : slotWait(seen, windows, at, position);
          if (taker.held + waitMs <= holdMs) staying.push(taker);
          else taker.answer({ granted: false, waitMs });
        });
        if (staying.length === 0) continue;
        await new Promise((resolve) => setTimeout(resolve, result.waitMs));
        for (const taker of staying) taker.held += result.waitMs;
        line.waiting.unshift(...staying);
      }
    } finally {
      line.serving = false;
      if (line.size === 0 && lines.get(installationId) === line) lines.delete(installationId);
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
    acquire(installationId: number): Promise<BudgetAnswer> {
      let line = lines.get(installationId);
      if (!line) lines.set(installationId, (line = { waiting: [], size: 0, serving: false }));
      const seen = lastSeen.get(installationId);
      if (line.size > 0 && seen) {
        const waitMs = slotWait(seen, windows, now(), line.size);
        if (waitMs > holdMs) return Promise.resolve({ granted: false, waitMs });
      }
      const joined = line;
      joined.size++;
      const answer = new Promise<BudgetAnswer>((resolve, reject) => {
        const leave = () => void joined.size--;
        joined.waiting.push({ held: 0, answer: (a) => (leave(), resolve(a)), fail: (err) => (leave(), reject(err)) });
      });
      if (!joined.serving) void serve(installationId, joined);
      return answer;
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
