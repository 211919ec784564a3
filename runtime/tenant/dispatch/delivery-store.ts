/**
 * Delivery records in the tenant's `deliveries` table (beside the intake's dedupe rows):
 * - `delivery` / `<deliveryId>`: the record as JSON, with `status`, `leaseUntil` and `dueAt`
 *   (epoch ms) as columns the sweeper filters on; every change is an ETag-guarded replace;
 * - `run-link` / `<consumerRepositoryId>-<runId>`: the correlation id a consumer run was linked by, so
 *   that run's later webhooks update the record even when its title carries no correlation id.
 * The settled reports (settle-event.ts) are records of the same shape in a partition of their own
 * (`report` / `<eventId>.<sequence>`), kept by a second store over the same table, and so are the
 * follow-ups of late messages (`follow-up` / `<deliveryId>~<messageId>`, follow-up-delivery.ts).
 *
 * Replaces are group-committed (storage/group-commit.ts): the records of one partition replaced
 * while a round is in flight go in one transaction (the dispatches of one fan-out end together,
 * so their outcomes cost one request, not one each). Same answers as one replace each: when the
 * transaction fails (a record changed meanwhile: 412), nothing of it was written, and each is
 * replaced on its own, so each caller gets its own `DeliveryChangedError` or new ETag.
 */
import type { TableClient } from '@azure/data-tables';
import { odata, type TransactionAction } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';
import { createGroupCommit } from '../../storage/group-commit.ts';
import { createCreateRounds } from '../../storage/create-rounds.ts';
import type { DeliveryRecord, DeliveryStatus } from './delivery-record.ts';
import type { Page } from './event-store.ts';

type Row = { partitionKey: string; rowKey: string; value: string; status: string; leaseUntil: number; dueAt: number; etag?: string };

/** A record changed between its read and its write. */
export class DeliveryChangedError extends Error {
  override name = 'DeliveryChangedError';
}

export interface StoredDelivery {
  readonly record: DeliveryRecord;
  readonly etag: string;
}

const toRow = (r: DeliveryRecord, partitionKey: string) => ({
  partitionKey,
  rowKey: r.id,
  value: JSON.stringify(r),
  status: r.status,
  leaseUntil: r.leaseUntil ?? 0,
  dueAt: Date.parse(r.nextAttemptAt ?? r.updatedAt),
});

interface PendingReplace {
  readonly row: ReturnType<typeof toRow>;
  readonly etag: string;
  readonly resolve: (etag: string) => void;
  readonly reject: (err: unknown) => void;
}

export function createDeliveryStore(table: TableClient, partition: 'delivery' | 'report' | 'follow-up' = 'delivery') {
  const creates = createCreateRounds(table);
  async function replaceOne(row: ReturnType<typeof toRow>, etag: string): Promise<string> {
    try {
      const result = await table.updateEntity(row, 'Replace', { etag });
      return result.etag ?? '*';
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 409) throw new DeliveryChangedError(`delivery ${row.rowKey} changed meanwhile`, { cause: err });
      throw err;
    }
  }

  const replaces = createGroupCommit<PendingReplace>({
    partitionOf: () => partition,
    sizeOf: (item) => item.row.value.length + 512,
    keyOf: (item) => item.row.rowKey,
    commitRound: async (round) => void (await Promise.all([...round.values()].map((batch) => commitReplaces(batch)))),
  });

  async function commitReplaces(batch: PendingReplace[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const result = await table.submitTransaction(batch.map((item): TransactionAction => ['update', item.row, 'Replace', { etag: item.etag }]));
        // Sub-responses name their row when the service says so; otherwise they come in order.
        batch.forEach((item, i) => item.resolve((result.subResponses.find((r) => r.rowKey === item.row.rowKey) ?? result.subResponses[i])?.etag ?? '*'));
        return;
      } catch {
        // Nothing of the transaction was written: each record on its own, for its own answer.
      }
    }
    await Promise.all(batch.map((item) => replaceOne(item.row, item.etag).then(item.resolve, item.reject)));
  }

  async function read(id: string): Promise<StoredDelivery | undefined> {
    try {
      const row = await table.getEntity<Row>(partition, id);
      return { record: JSON.parse(row.value) as DeliveryRecord, etag: row.etag ?? '*' };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async function page(filter: string, options: { limit: number; cursor?: string }): Promise<Page<DeliveryRecord>> {
    const pages = table.listEntities<Row>({ queryOptions: { filter } }).byPage({ maxPageSize: options.limit, ...(options.cursor ? { continuationToken: options.cursor } : {}) });
    const first = await pages.next();
    if (first.done) return { items: [] };
    return { items: first.value.map((r) => JSON.parse(r.value) as DeliveryRecord), ...(first.value.continuationToken ? { next: first.value.continuationToken } : {}) };
  }

  /**
   * Creates the record unless it exists; answers it with its ETag when this call created it.
   * Records created at the same moment (the fan-outs of one batch the platform forwarded, one
   * consumer each) go in one transaction (storage/create-rounds.ts).
   */
  async function createIfAbsent(record: DeliveryRecord): Promise<StoredDelivery | undefined> {
    const created = await creates.createIfAbsent(toRow(record, partition));
    return created ? { record, etag: created.etag } : undefined;
  }

  return {
    read,
    createIfAbsent,

    /**
     * `createIfAbsent` for many records, answered in the order given: asked for together, those of
     * one event (one partition) go up to 100 to a transaction (storage/create-rounds.ts, which also
     * creates each on its own when a transaction finds one existing: a repeated webhook, a copy
     * retried after a crash part-way).
     */
    createAllIfAbsent(records: readonly DeliveryRecord[]): Promise<(StoredDelivery | undefined)[]> {
      return Promise.all(records.map((record) => createIfAbsent(record)));
    },

    /** Removes the record if it is unchanged since `etag` was read; false when it changed or is gone. */
    async remove(id: string, etag: string): Promise<boolean> {
      try {
        await table.deleteEntity(partition, id, { etag });
        return true;
      } catch (err) {
        if (statusOf(err) === 404 || statusOf(err) === 412) return false;
        throw err;
      }
    },

    /** Replaces the record if it is unchanged since `etag` was read; answers the new etag. */
    replace(record: DeliveryRecord, etag: string): Promise<string> {
      return new Promise<string>((resolve, reject) => replaces.add({ row: toRow(record, partition), etag, resolve, reject }));
    },

    /**
     * Reads, changes and writes a record until the write meets no concurrent change. `change`
     * answers undefined to leave the record as it is.
     */
    async update(id: string, change: (current: DeliveryRecord) => DeliveryRecord | undefined): Promise<DeliveryRecord | undefined> {
      for (let i = 0; i < 10; i++) {
        const current = await read(id);
        if (!current) return undefined;
        const next = change(current.record);
        if (!next) return current.record;
        try {
          await this.replace(next, current.etag);
          return next;
        } catch (err) {
          if (!(err instanceof DeliveryChangedError)) throw err;
        }
      }
      throw new DeliveryChangedError(`delivery ${id}: too much contention`);
    },

    /** The deliveries of one event (their ids start with the event's). */
    async ofEvent(eventId: string): Promise<DeliveryRecord[]> {
      const found: DeliveryRecord[] = [];
      const filter = odata`PartitionKey eq ${partition} and RowKey ge ${`${eventId}.`} and RowKey lt ${`${eventId}/`}`;
      for await (const row of table.listEntities<Row>({ queryOptions: { filter } })) found.push(JSON.parse(row.value) as DeliveryRecord);
      return found;
    },

    /**
     * Whether any delivery of the event has not ended: asks for one such row only (a range read
     * that stops at the first match), not for all of them.
     */
    async anyNotEnded(eventId: string, ended: readonly DeliveryStatus[]): Promise<boolean> {
      const filter = [odata`PartitionKey eq ${partition} and RowKey ge ${`${eventId}.`} and RowKey lt ${`${eventId}/`}`, ...ended.map((status) => odata`status ne ${status}`)].join(' and ');
      const pages = table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey'] } }).byPage({ maxPageSize: 1 });
      for await (const page of pages) if (page.length > 0) return true;
      return false;
    },

    /** In delivery id order, optionally of one status. */
    list(options: { status?: DeliveryStatus; limit: number; cursor?: string }): Promise<Page<DeliveryRecord>> {
      const filter = options.status ? odata`PartitionKey eq ${partition} and status eq ${options.status}` : odata`PartitionKey eq ${partition}`;
      return page(filter, options);
    },

    /** Queued records due before `dueBefore` that no dispatcher holds (the sweeper re-enqueues them). */
    async staleQueued(now: number, dueBefore: number): Promise<DeliveryRecord[]> {
      const found: DeliveryRecord[] = [];
      const filter = odata`PartitionKey eq ${partition} and status eq 'queued' and dueAt lt ${dueBefore} and leaseUntil lt ${now}`;
      for await (const row of table.listEntities<Row>({ queryOptions: { filter } })) found.push(JSON.parse(row.value) as DeliveryRecord);
      return found;
    },

    /** Dispatched records with no linked run whose dispatch is older than `before`. */
    async unlinkedSince(before: number): Promise<DeliveryRecord[]> {
      const found: DeliveryRecord[] = [];
      const filter = odata`PartitionKey eq ${partition} and status eq 'dispatched' and dueAt lt ${before}`;
      for await (const row of table.listEntities<Row>({ queryOptions: { filter } })) found.push(JSON.parse(row.value) as DeliveryRecord);
      return found;
    },

    /** Remembers the correlation id a consumer run was linked with. */
    async linkRun(consumerId: number, runId: number, correlationId: string): Promise<void> {
      await table.upsertEntity({ partitionKey: 'run-link', rowKey: `${consumerId}-${runId}`, value: correlationId }, 'Replace');
    },

    async correlationOfRun(consumerId: number, runId: number): Promise<string | undefined> {
      try {
        return (await table.getEntity<{ value: string }>('run-link', `${consumerId}-${runId}`)).value;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
