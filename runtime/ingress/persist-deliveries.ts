/**
 * Persist first, with group commit. Concurrent deliveries of one partition are written as one
 * table transaction (their envelopes, bodies deflated and inline when small) and announced to the router
 * by one queue message; each request is answered when its batch has committed and been announced.
 * A 202 therefore always means "durably stored" — the ack waits for the write, never the reverse.
 *
 * Dedupe costs no extra round trip: rows are inserted with `create`, which fails on an existing
 * row key (the GitHub delivery id). Only then are the conflicting ids looked up and answered as
 * duplicates. A row is written before its announcement, so a failure between the two leaves a row
 * in `received` state: a repeat of that delivery (GitHub's redelivery) re-announces it rather than
 * being dropped as a duplicate, and the sweeper re-announces rows left behind by a crash.
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { deflateRawSync } from 'node:zlib';
import type { Logger } from '../core/logger.ts';
import { sendJson } from '../storage/queue-message.ts';
import { toEntity, type DeliveryEntity, type DeliveryRecord } from './delivery-record.ts';
import { statusOf } from '../storage/status-of.ts';

/** What the router's queue message carries: the rows to route, all of one partition. */
export interface RouteAnnouncement {
  readonly partition: string;
  readonly deliveryIds: readonly string[];
}

export type PersistOutcome = 'stored' | 'duplicate';

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

/** Azure Tables: at most 100 operations and 4 MiB per transaction. */
const maxBatchOperations = 100;
const maxBatchBytes = 3.5 * 1024 * 1024;

export interface DeliveryCommitterOptions {
  readonly table: TableClient;
  readonly queue: QueueClient;
  readonly payloads: ContainerClient;
  /** Bodies up to this many bytes stay inline in the row (Azure caps a binary property at 64 KiB). */
  readonly inlineBodyBytes: number;
  readonly log: Logger;
}

export function createDeliveryCommitter(options: DeliveryCommitterOptions): DeliveryCommitter {
  const pending = new Map<string, Pending[]>();
  const flushing = new Set<string>();

  function schedule(partition: string): void {
    if (flushing.has(partition)) return;
    flushing.add(partition);
    // setImmediate gathers everything that arrived in this turn of the event loop into the batch.
    setImmediate(() => void flushLoop(partition));
  }

  async function flushLoop(partition: string): Promise<void> {
    try {
      for (;;) {
        const queue = pending.get(partition) ?? [];
        if (queue.length === 0) break;
        const batch = takeBatch(queue);
        await commitBatch(partition, batch);
      }
    } finally {
      flushing.delete(partition);
      if ((pending.get(partition) ?? []).length > 0) schedule(partition);
    }
  }

  function takeBatch(queue: Pending[]): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (queue.length && batch.length < maxBatchOperations) {
      const next = queue[0] as Pending;
      const size = inlineSize(next) * 1.4 + 1024; // base64 in the batch body, plus the envelope
      if (batch.length > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      batch.push(queue.shift() as Pending);
    }
    return batch;
  }

  function inlineSize(item: Pending): number {
    return item.packed.length <= options.inlineBodyBytes ? item.packed.length : 0;
  }

  async function commitBatch(partition: string, batch: Pending[]): Promise<void> {
    // The same delivery id twice in one batch: the first one is written, the rest are duplicates.
    const byId = new Map<string, Pending[]>();
    for (const item of batch) {
      const list = byId.get(item.record.deliveryId);
      if (list) list.push(item);
      else byId.set(item.record.deliveryId, [item]);
    }
    let toWrite = [...byId.values()].map((items) => items[0] as Pending);
    const settle = (id: string, outcome: PersistOutcome) => {
      const [first, ...repeats] = byId.get(id) ?? [];
      first?.resolve(outcome);
      for (const r of repeats) r.resolve('duplicate');
    };
    const fail = (items: Pending[], err: unknown) => {
      for (const item of items) for (const p of byId.get(item.record.deliveryId) ?? []) p.reject(err);
    };

    try {
      const entities = await Promise.all(toWrite.map((item) => entityFor(item)));
      let written: DeliveryEntity[] = entities;
      for (let round = 0; written.length > 0 && round < 3; round++) {
        const conflicts = await tryInsert(written);
        if (conflicts.length === 0) break;
        // Rare path: someone already stored these ids. Answer them as duplicates (re-announcing
        // rows that never reached the router), and write the rest again.
        for (const id of conflicts) {
          await reannounceIfUnrouted(partition, id);
          settle(id, 'duplicate');
        }
        written = written.filter((e) => !conflicts.includes(e.rowKey));
        toWrite = toWrite.filter((item) => !conflicts.includes(item.record.deliveryId));
      }
      if (written.length > 0) {
        const announcement: RouteAnnouncement = { partition, deliveryIds: written.map((e) => e.rowKey) };
        await sendJson(options.queue, announcement);
      }
      for (const item of toWrite) settle(item.record.deliveryId, 'stored');
    } catch (err) {
      options.log.error({ err, partition, deliveries: toWrite.length }, 'could not persist a batch of deliveries');
      fail(toWrite, err);
    }
  }

  async function entityFor(item: Pending): Promise<DeliveryEntity> {
    if (item.packed.length <= options.inlineBodyBytes) return toEntity({ ...item.record, body: item.packed, bodyEncoding: 'deflate-raw' });
    const blobName = `${item.record.deliveryId}.json`;
    // Written before the row, so a row never points at a missing blob.
    await options.payloads.uploadBlockBlob(blobName, item.rawBody, item.rawBody.length, {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    return toEntity({ ...item.record, bodyBlob: blobName });
  }

  /** Inserts all rows in one transaction; returns the ids that already existed (nothing written then). */
  async function tryInsert(entities: DeliveryEntity[]): Promise<string[]> {
    try {
      if (entities.length === 1) await options.table.createEntity(entities[0] as DeliveryEntity);
      else await options.table.submitTransaction(entities.map((e): TransactionAction => ['create', e]));
      return [];
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      return existingIds(entities);
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

  async function reannounceIfUnrouted(partition: string, deliveryId: string): Promise<void> {
    const row = await options.table.getEntity<Pick<DeliveryEntity, 'status'>>(partition, deliveryId, {
      queryOptions: { select: ['status'] },
    });
    if (row.status === 'received') {
      await sendJson(options.queue, { partition, deliveryIds: [deliveryId] } satisfies RouteAnnouncement);
    }
  }

  return {
    persist(record, rawBody) {
      return new Promise<PersistOutcome>((resolve, reject) => {
        const list = pending.get(record.partition);
        // Fewer bytes to the table, its parser and the socket: the storage side of the cost.
        const item = { record, rawBody, packed: deflateRawSync(rawBody, { level: 1 }), resolve, reject };
        if (list) list.push(item);
        else pending.set(record.partition, [item]);
        schedule(record.partition);
      });
    },
  };
}
