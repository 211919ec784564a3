/**
 * The sign-in state timer: OAuth states nobody came back for, sessions past their end and rate
 * windows that have ended are deleted, so the tables hold only what is still usable. Each query
 * asks only for expired rows of one partition (`expiresAt` is an ISO timestamp, so string order
 * is time order), and deletes go in batches of one partition (Table storage takes 100 per batch).
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { Logger } from '../core/logger.ts';
import { ratePartition } from './login-rate-limit.ts';
import { statusOf } from '../storage/status-of.ts';

export interface PurgeResult {
  readonly states: number;
  readonly sessions: number;
  readonly rateWindows: number;
}

async function purgeExpired(table: TableClient, partition: string, field: string, before: string): Promise<number> {
  const filter = `PartitionKey eq '${partition}' and ${field} lt '${before}'`;
  let batch: TransactionAction[] = [];
  let deleted = 0;
  const flush = async () => {
    if (!batch.length) return;
    const actions = batch;
    batch = [];
    try {
      await table.submitTransaction(actions);
      deleted += actions.length;
    } catch {
      // One row went meanwhile (a session read past its end deletes itself): one by one instead.
      for (const [, entity] of actions) {
        await table.deleteEntity(entity.partitionKey as string, entity.rowKey as string).then(
          () => void deleted++,
          (err: unknown) => {
            if (statusOf(err) !== 404) throw err;
          },
        );
      }
    }
  };
  for await (const row of table.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ['RowKey'] } })) {
    batch.push(['delete', { partitionKey: partition, rowKey: row.rowKey as string }]);
    if (batch.length === 100) await flush();
  }
  await flush();
  return deleted;
}

export async function purgeSignInState(options: {
  readonly states: TableClient;
  readonly sessions: TableClient;
  readonly log: Logger;
  readonly now?: () => Date;
}): Promise<PurgeResult> {
  const now = (options.now ?? (() => new Date()))().toISOString();
  const [states, sessions, rateWindows] = await Promise.all([
    purgeExpired(options.states, 'state', 'expiresAt', now),
    purgeExpired(options.sessions, 'session', 'expiresAt', now),
    purgeExpired(options.states, ratePartition, 'windowEndsAt', now),
  ]);
  if (states || sessions || rateWindows) options.log.info({ states, sessions, rateWindows }, 'expired sign-in state purged');
  return { states, sessions, rateWindows };
}
