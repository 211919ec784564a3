/**
 * Persist first, with group commit. Deliveries that arrive while a round is in flight form the
 * next round: one table transaction per partition (their envelopes, bodies deflated and inline
 * when small). Each request is answered once its row is stored and its routing is assured: a 202
 * always means "durably stored, and it will be routed" — the ack waits for the writes, never the
 * reverse.
 *
 * Routing is assured one of two ways. The router of this process (`routeHere`, route-delivery.ts
 * `reserve`) takes the round before it is written: its rows are inserted already claimed by it
 * (`leaseUntil`, so no other router touches them and it writes no claim of its own), and once
 * stored they are handed to it as the table answered them, routed at once: no queue message to
 * send, receive and delete, no row to read back. If this process dies before it finishes, the
 * claim runs out and the sweeper announces the rows again. When there is no router here, or it
 * declines (it has too many in hand), the round is announced on the router's queue instead:
 * written at the same time as the rows, and a failed announcement fails the round's requests,
 * whose rows stay `received` — GitHub's retry finds the row, is announced again with its own
 * round, and only then is answered as a duplicate.
 *
 * Dedupe costs no extra round trip: rows are inserted with `create`, which fails on an existing
 * row key (the GitHub delivery id). Only then are the conflicting ids looked up and answered as
 * duplicates. A duplicate is routed again too (its row may still be waiting for the router); the
 * router's claim makes that harmless.
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { deflateRawSync } from 'node:zlib';
import type { Logger } from '../core/logger.ts';
import { announceDeliveries } from './route-announcement.ts';
import { fromEntity, toEntity, type DeliveryEntity, type DeliveryRecord } from './delivery-record.ts';
import { statusOf } from '../storage/status-of.ts';
import { createGroupCommit } from '../storage/group-commit.ts';

export type PersistOutcome = 'stored' | 'duplicate';

/** A router's promise to take a round: its rows are written claimed until `leaseUntil`, then handed over. */
export interface RouteReservation {
  /** The claim the round's new rows are inserted with (none: they are inserted unclaimed). */
  readonly leaseUntil?: string;
  /** Called once, with what the round stored and the ids it found stored already. */
  handOver(stored: readonly StoredDelivery[], duplicateIds: readonly string[]): void;
}

/** A row as the round stored it (with the ETag of its insert), and the body GitHub sent, as received. */
export interface StoredDelivery {
  readonly record: DeliveryRecord;
  readonly rawBody: Buffer;
}

export interface DeliveryCommitter {
  /** Resolves once the delivery is stored and announced (or known to be a duplicate). */
  persist(record: DeliveryRecord, rawBody: Buffer): Promise<PersistOutcome>;
}

interface Pending {
  readonly record: DeliveryRecord;
  readonly rawBody: Buffer;
  /** The body deflated (level 1: ~35 µs for 17 KB), kept inline when it fits. */
  readonly packed: Buffer;
  readonly resolve: (outcome: PersistOutcome) => void;
  readonly reject: (err: unknown) => void;
}

interface WrittenBatch {
  readonly stored: Pending[];
  /** The stored items' rows as the table holds them (with their ETags), with their bodies as received. */
  readonly rows: StoredDelivery[];
  readonly duplicates: Pending[];
}

export interface DeliveryCommitterOptions {
  readonly table: TableClient;
  readonly queue: QueueClient;
  readonly payloads: ContainerClient;
  /** Bodies up to this many bytes stay inline in the row (Azure caps a binary property at 64 KiB). */
  readonly inlineBodyBytes: number;
  /** The router of this process, which takes rounds before they are written (route-delivery.ts `reserve`). */
  readonly routeHere?: { reserve(count: number): RouteReservation | undefined };
  readonly log: Logger;
}

export function createDeliveryCommitter(options: DeliveryCommitterOptions): DeliveryCommitter {
  // One round at a time: everything that arrived while the previous round was in flight is
  // written together, one transaction per partition and one announcement, all in parallel. The
  // same delivery id twice in a round is allowed: writeBatch answers the second as a duplicate.
  const rounds = createGroupCommit<Pending>({
    partitionOf: (item) => item.record.partition,
    sizeOf: (item) => inlineSize(item) * 1.4 + 1024, // base64 in the batch body, plus the envelope
    commitRound: (round) => commitRound(round),
  });

  function inlineSize(item: Pending): number {
    return item.packed.length <= options.inlineBodyBytes ? item.packed.length : 0;
  }

  /**
   * Without a router here, the round's rows and its announcement are written at the same time:
   * the router's message needs no row to exist yet (it looks again when it comes first, see
   * route-delivery.ts), and a request is answered only once both have succeeded.
   */
  async function commitRound(round: Map<string, Pending[]>): Promise<void> {
    const ids = [...new Set([...round.values()].flatMap((batch) => batch.map((item) => item.record.deliveryId)))];
    const reservation = options.routeHere?.reserve([...round.values()].reduce((n, batch) => n + batch.length, 0));
    const writes = Promise.all([...round.values()].map((batch) => writeBatch(batch, reservation?.leaseUntil)));
    let results: WrittenBatch[];
    let announced: { err: unknown } | undefined;
    if (reservation) {
      results = await writes;
      const duplicateIds = [...new Set(results.flatMap((r) => r.duplicates.map((item) => item.record.deliveryId)))];
      reservation.handOver(results.flatMap((r) => r.rows), duplicateIds);
    } else {
      // Declined, or no router here: the queue holds the round, and any instance routes it.
      [results, announced] = await Promise.all([
        writes,
        announceDeliveries(options.queue, ids).then(
          () => undefined,
          (err: unknown) => ({ err }),
        ),
      ]);
    }
    const stored = results.flatMap((r) => r.stored);
    const duplicates = results.flatMap((r) => r.duplicates);
    if (announced) {
      options.log.error({ err: announced.err, deliveries: ids.length }, 'could not announce a batch of deliveries');
      for (const item of [...stored, ...duplicates]) item.reject(announced.err);
      return;
    }
    for (const item of stored) item.resolve('stored');
    // A duplicate's row may still be waiting for the router: it was handed over or announced again.
    for (const item of duplicates) item.resolve('duplicate');
  }

  /**
   * Writes one partition's batch as one transaction. Returns the items written (and their rows as
   * stored, each with the ETag of its insert) and the duplicates, both answered by the round; fails
   * the rest itself.
   */
  async function writeBatch(batch: Pending[], leaseUntil: string | undefined): Promise<WrittenBatch> {
    const partition = (batch[0] as Pending).record.partition;
    // The same delivery id twice in one batch: the first one is written, the rest are duplicates.
    const byId = new Map<string, Pending>();
    const duplicates: Pending[] = [];
    for (const item of batch) {
      if (byId.has(item.record.deliveryId)) duplicates.push(item);
      else byId.set(item.record.deliveryId, item);
    }
    let toWrite = [...byId.values()];
    let rows: StoredDelivery[] = [];
    try {
      let unwritten: DeliveryEntity[] = await Promise.all(toWrite.map((item) => entityFor(item, leaseUntil)));
      for (let attempt = 1; unwritten.length > 0; attempt++) {
        const { conflicts, etags } = await tryInsert(unwritten);
        if (conflicts.size === 0) {
          const bodies = new Map(toWrite.map((item) => [item.record.deliveryId, item.rawBody]));
          rows = unwritten.map((e) => ({
            record: fromEntity({ ...e, ...(etags.has(e.rowKey) ? { etag: etags.get(e.rowKey) } : {}) }),
            rawBody: bodies.get(e.rowKey) as Buffer,
          }));
          break;
        }
        // Rare path: someone already stored these ids. They are duplicates; write the rest again.
        if (attempt === 3) throw new Error(`the table kept refusing the batch with conflicts (${attempt} attempts)`);
        duplicates.push(...toWrite.filter((item) => conflicts.has(item.record.deliveryId)));
        unwritten = unwritten.filter((e) => !conflicts.has(e.rowKey));
        toWrite = toWrite.filter((item) => !conflicts.has(item.record.deliveryId));
      }
      return { stored: toWrite, rows, duplicates };
    } catch (err) {
      options.log.error({ err, partition, deliveries: batch.length }, 'could not persist a batch of deliveries');
      for (const item of [...toWrite, ...duplicates]) item.reject(err);
      return { stored: [], rows: [], duplicates: [] };
    }
  }

  async function entityFor(item: Pending, leaseUntil: string | undefined): Promise<DeliveryEntity> {
    const record = leaseUntil ? { ...item.record, leaseUntil } : item.record;
    if (item.packed.length <= options.inlineBodyBytes) return toEntity({ ...record, body: item.packed, bodyEncoding: 'deflate-raw' });
    const blobName = `${item.record.deliveryId}.json`;
    // Written before the row, so a row never points at a missing blob.
    await options.payloads.uploadBlockBlob(blobName, item.rawBody, item.rawBody.length, {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    return toEntity({ ...record, bodyBlob: blobName });
  }

  /**
   * Inserts all rows in one transaction; returns the ids that already existed (nothing written
   * then), or the new rows' ETags.
   */
  async function tryInsert(entities: DeliveryEntity[]): Promise<{ conflicts: Set<string>; etags: Map<string, string> }> {
    const etags = new Map<string, string>();
    try {
      if (entities.length === 1) {
        const entity = entities[0] as DeliveryEntity;
        const { etag } = await options.table.createEntity(entity);
        if (etag) etags.set(entity.rowKey, etag);
      } else {
        const result = await options.table.submitTransaction(entities.map((e): TransactionAction => ['create', e]));
        // Sub-responses name their row when the service says so; otherwise they come in order.
        entities.forEach((e, i) => {
          const named = result.subResponses.find((r) => r.rowKey === e.rowKey) ?? result.subResponses[i];
          if (named?.etag) etags.set(e.rowKey, named.etag);
        });
      }
      return { conflicts: new Set(), etags };
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      return { conflicts: new Set(await existingIds(entities)), etags };
    }
  }

  async function existingIds(entities: DeliveryEntity[]): Promise<string[]> {
    const found = await Promise.all(
      entities.map(async (e) => {
        try {
          await options.table.getEntity(e.partitionKey, e.rowKey, { queryOptions: { select: ['status'] } });
          return e.rowKey;
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw err;
        }
      }),
    );
    const ids = found.filter((id): id is string => id !== undefined);
    if (ids.length === 0) throw new Error('the table refused the batch with a conflict, but no row exists');
    return ids;
  }

  return {
    persist(record, rawBody) {
      return new Promise<PersistOutcome>((resolve, reject) => {
        // Fewer bytes to the table, its parser and the socket: the storage side of the cost.
        rounds.add({ record, rawBody, packed: deflateRawSync(rawBody, { level: 1 }), resolve, reject });
      });
    },
  };
}
