/**
 * The deliveries sweeper (timer): nothing accepted is ever lost, and nothing is kept forever.
 * - A row still `received` (or `retrying` past its due time) long after it was written lost its
 *   announcement (a crash between the table write and the queue message, or a lost message):
 *   announce it again. The router's ETag claim keeps this from forwarding twice.
 * - Rows older than the retention are purged with their blobs.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../core/logger.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { announceDeliveries } from './route-announcement.ts';

export interface SweepOptions {
  readonly deliveries: DeliveryStore;
  readonly queue: QueueClient;
  readonly retentionDays: number;
  /** A row this long past its due time counts as stalled (120 s by default). */
  readonly stalledAfterMs?: number;
  readonly log: Logger;
  readonly now?: () => Date;
}

export async function sweepDeliveries(options: SweepOptions): Promise<{ reannounced: number; purged: number }> {
  const now = (options.now ?? (() => new Date()))();
  const stalledBefore = new Date(now.getTime() - (options.stalledAfterMs ?? 120_000)).toISOString();
  // The time filters go to the table: only stalled rows come back, not every routed-soon one.
  const [received, retrying] = await Promise.all([
    options.deliveries.query({ status: 'received', updatedBefore: stalledBefore }),
    options.deliveries.query({ status: 'retrying', dueBefore: stalledBefore }),
  ]);
  const stalled = [...received.filter((r) => !(r.leaseUntil && Date.parse(r.leaseUntil) > now.getTime())), ...retrying];
  await announceDeliveries(options.queue, stalled.map((r) => r.deliveryId));

  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000).toISOString();
  const expired = await options.deliveries.query({ until: cutoff });
  for (const record of expired) await options.deliveries.remove(record);
  if (stalled.length || expired.length) {
    options.log.info({ reannounced: stalled.length, purged: expired.length }, 'deliveries swept');
  }
  return { reannounced: stalled.length, purged: expired.length };
}
