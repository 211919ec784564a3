/**
 * Group commit for the router's writes, the way the intake commits its rows
 * (persist-deliveries.ts): every ETag-guarded replace asked for while a round is in flight joins
 * the next round, and a round is one table transaction per partition (at most 100 rows and
 * 3.5 MiB each) instead of one request per row. A round of an announcement's claims, or of its
 * finishes, costs a handful of requests instead of hundreds.
 *
 * Same answers as one replace each: a transaction is all or nothing, so when one fails (one of its
 * rows changed meanwhile: 412, or was purged: 404), nothing of it was written, and its rows are
 * written again one by one: each caller gets its own outcome (`DeliveryChangedError` for the row
 * another router claimed, the new ETag for the others). A row asked for twice in one round waits
 * for the next one (a transaction may name a row only once).
 *
 * `gatherMs`: each round waits that long for more (group-commit.ts), for the writes nothing waits
 * on (the router's `delivered` marks: at 200 deliveries a second, rounds of one become rounds of
 * about twenty).
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { toEntity, type DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { createGroupCommit } from '../storage/group-commit.ts';

interface Pending {
  readonly record: DeliveryRecord;
  readonly resolve: (record: DeliveryRecord) => void;
  readonly reject: (err: unknown) => void;
}

export interface BatchUpdateOptions {
  /** How long a round gathers (group-commit.ts); absent: what arrives in one turn of the event loop. */
  readonly gatherMs?: number;
  /**
   * Write every field but the body as a Merge, under the same ETag: the body (about 6 KB of
   * base64 per row in the transaction's text) is not sent, parsed and stored again. The claim
   * and the next attempt the record no longer has are cleared (written empty: read back as
   * absent, delivery-record.ts `fromEntity`), so the row reads as the replace would leave it.
   */
  readonly merge?: boolean;
}

/** What a Merge clears: the fields a finish drops (route-delivery.ts), absent from the record. */
const clearedByMerge = ['leaseUntil', 'nextAttemptAt'] as const;

function mergeEntity(record: Omit<DeliveryRecord, 'etag'>) {
  const { body: _body, bodyEncoding: _encoding, ...entity } = toEntity(record as DeliveryRecord);
  for (const field of clearedByMerge) if (entity[field] === undefined) entity[field] = '';
  return entity;
}

export function batchDeliveryUpdates(store: DeliveryStore, table: TableClient, options: BatchUpdateOptions = {}): DeliveryStore {
  const rounds = createGroupCommit<Pending>({
    ...(options.gatherMs ? { gatherMs: options.gatherMs } : {}),
    partitionOf: (item) => item.record.partition,
    sizeOf: (item) => (options.merge ? 0 : (item.record.body?.length ?? 0) * 1.4) + 1024, // base64 in the batch body, plus the envelope
    keyOf: (item) => item.record.deliveryId,
    commitRound: async (round) => void (await Promise.all([...round.values()].map((batch) => commit(batch)))),
  });

  async function commit(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const actions = batch.map(({ record }): TransactionAction => {
          const { etag, ...rest } = record;
          return options.merge ? ['update', mergeEntity(rest), 'Merge', { etag: etag ?? '*' }] : ['update', toEntity(rest), 'Replace', { etag: etag ?? '*' }];
        });
        const result = await table.submitTransaction(actions);
        const etags = new Map(result.subResponses.map((r) => [r.rowKey, r.etag]));
        // Sub-responses name their row when the service says so; otherwise they come in order.
        batch.forEach((item, i) => {
          const etag = etags.get(item.record.deliveryId) ?? result.subResponses[i]?.etag;
          item.resolve({ ...item.record, ...(etag ? { etag } : {}) });
        });
        return;
      } catch {
        // Nothing of the transaction was written: each row on its own, for its own answer.
      }
    }
    await Promise.all(batch.map((item) => store.update(item.record).then(item.resolve, item.reject)));
  }

  return {
    ...store,
    update(record) {
      // The store's own checks first (a row without its body is never written back).
      if (!record.body && !record.bodyBlob) return store.update(record);
      return new Promise<DeliveryRecord>((resolve, reject) => rounds.add({ record, resolve, reject }));
    },
  };
}
