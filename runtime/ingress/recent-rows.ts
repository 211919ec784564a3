/**
 * The rows the intake has just written, handed to the router of the same process so that it need
 * not read them back: under `npm start`, and in the one ingress app on Azure, the intake and the
 * router share a process, and at low rates every announcement is one delivery whose row the
 * router would otherwise read right after the intake wrote it.
 *
 * Why a remembered row is safe to use: it is a version of the row that was stored (its ETag is
 * the one the table answered the insert with), and the router trusts it no further than its
 * ETag-guarded claim — if anything changed the row since (another router, a replay, a release,
 * the purge), the claim fails and the router reads the row as it always did. A row is handed out
 * once; the router alone, after a crash or on another instance, finds nothing here and reads.
 * Bounded by count, bytes and age, so rows whose announcement another instance takes do not pile up.
 */
import type { DeliveryRecord } from './delivery-record.ts';

export interface RecentRows {
  /** Remembers rows just stored, each with the ETag of its insert. */
  remember(records: readonly DeliveryRecord[]): void;
  /** The remembered row of a delivery, once (undefined when not remembered, or no longer). */
  take(deliveryId: string): DeliveryRecord | undefined;
}

export interface RecentRowsOptions {
  readonly maxRows?: number;
  readonly maxBytes?: number;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly record: DeliveryRecord;
  readonly bytes: number;
  readonly at: number;
}

export function createRecentRows(options: RecentRowsOptions = {}): RecentRows {
  const maxRows = options.maxRows ?? 2_000;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  // Announcements are routed within moments; one older than this is taken from the table.
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const now = options.now ?? Date.now;
  // Insertion order is age order: the oldest entries are evicted from the front.
  const rows = new Map<string, Entry>();
  let bytes = 0;

  function drop(deliveryId: string, entry: Entry): void {
    rows.delete(deliveryId);
    bytes -= entry.bytes;
  }

  function evict(at: number): void {
    for (const [id, entry] of rows) {
      if (rows.size <= maxRows && bytes <= maxBytes && at - entry.at <= maxAgeMs) break;
      drop(id, entry);
    }
  }

  return {
    remember(records) {
      const at = now();
      for (const record of records) {
        if (!record.etag) continue;
        const previous = rows.get(record.deliveryId);
        if (previous) drop(record.deliveryId, previous);
        const entry = { record, bytes: (record.body?.length ?? 0) + 512, at };
        rows.set(record.deliveryId, entry);
        bytes += entry.bytes;
      }
      evict(at);
    },
    take(deliveryId) {
      const entry = rows.get(deliveryId);
      if (!entry) return undefined;
      drop(deliveryId, entry);
      return now() - entry.at <= maxAgeMs ? entry.record : undefined;
    },
  };
}
