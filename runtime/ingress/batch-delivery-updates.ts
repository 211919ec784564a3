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

export function batchDeliveryUpdates(store: DeliveryStore, table: TableClient): DeliveryStore {
  const rounds = createGroupCommit<Pending>({
    partitionOf: (item) => item.record.partition,
    sizeOf: (item) => (item.record.body?.length ?? 0) * 1.4 + 1024, // base64 in the batch body, plus the envelope
    keyOf: (item) => item.record.deliveryId,
    commitRound: async (round) => void (await Promise.all([...round.values()].map((batch) => commit(batch)))),
  });

  async function commit(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const actions = batch.map(({ record }): TransactionAction => {
          const { etag, ...rest } = record;
          return ['update', toEntity(rest), 'Replace', { etag: etag ?? '*' }];
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
