/**
 * Create-if-absent, group-committed (group-commit.ts): rows of one partition asked for while a
 * round is in flight are inserted in one table transaction — one request instead of one each. The
 * tenant's intake asks for rows this way for every delivery of a batch the platform forwards at
 * once (its dedupe rows, the runs' delivery records), so they land together.
 *
 * Same answers as one insert each: a transaction fails whole when one of its rows exists (409),
 * nothing of it written; then each row of it is inserted on its own, so each caller learns whether
 * its own row was created. Any other failure fails the round's callers, as it would have failed
 * each insert; nothing is retried on a guess about what the service wrote.
 */
import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import { statusOf } from './status-of.ts';
import { createGroupCommit } from './group-commit.ts';

interface PendingCreate {
  readonly row: TableEntity;
  readonly bytes: number;
  readonly resolve: (created: { etag: string } | undefined) => void;
  readonly reject: (err: unknown) => void;
}

export interface CreateRounds {
  /** Inserts the row unless its key exists: its ETag when this call created it, undefined when it existed. */
  createIfAbsent(row: TableEntity): Promise<{ etag: string } | undefined>;
}

export function createCreateRounds(table: TableClient): CreateRounds {
  async function createOne(row: TableEntity): Promise<{ etag: string } | undefined> {
    try {
      const result = await table.createEntity(row);
      return { etag: result.etag ?? '*' };
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw err;
    }
  }

  async function commit(batch: PendingCreate[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [PendingCreate];
      return createOne(only.row).then(only.resolve, only.reject);
    }
    try {
      const result = await table.submitTransaction(batch.map((item): TransactionAction => ['create', item.row]));
      // Sub-responses name their row when the service says so; otherwise they come in order.
      batch.forEach((item, i) => item.resolve({ etag: (result.subResponses.find((r) => r.rowKey === item.row.rowKey) ?? result.subResponses[i])?.etag ?? '*' }));
    } catch (err) {
      if (statusOf(err) !== 409) return batch.forEach((item) => item.reject(err));
      // One of them exists: nothing was written; each on its own, for its own answer.
      await Promise.all(batch.map((item) => createOne(item.row).then(item.resolve, item.reject)));
    }
  }

  const rounds = createGroupCommit<PendingCreate>({
    partitionOf: (item) => item.row.partitionKey,
    sizeOf: (item) => item.bytes,
    // A transaction names a row once: the same key twice waits for the next round (and finds it there).
    keyOf: (item) => item.row.rowKey,
    commitRound: async (round) => void (await Promise.all([...round.values()].map((batch) => commit(batch)))),
  });

  return {
    createIfAbsent: (row) =>
      new Promise((resolve, reject) => {
        rounds.add({ row, bytes: approximateBytes(row), resolve, reject });
      }),
  };
}

/**
 * A row's size in a transaction's body, roughly: its strings' lengths plus a little per property
 * and the sub-request's envelope (without serialising the row a second time on the hot path).
 */
function approximateBytes(row: TableEntity): number {
  let bytes = 512;
  for (const [key, value] of Object.entries(row)) bytes += key.length + 16 + (typeof value === 'string' ? value.length : Buffer.isBuffer(value) ? Math.ceil(value.length * 1.4) : 16);
  return bytes;
}
