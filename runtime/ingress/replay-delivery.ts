/**
 * An operator's replay: a delivery (typically dead-lettered) goes back to `received` with a fresh
 * attempt budget and is announced to the router again. The stored body is forwarded as it was;
 * the tenant still dedupes on the delivery id, so replaying an already processed delivery is safe.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { announceDeliveries } from './route-announcement.ts';

/** Replaying an event Zekt does not forward would do nothing. */
export class NotReplayableError extends Error {
  override name = 'NotReplayableError';
}

export async function replayDelivery(
  deliveries: DeliveryStore,
  queue: QueueClient,
  deliveryId: string,
  now: Date = new Date(),
): Promise<DeliveryRecord> {
  const record = await deliveries.get(deliveryId);
  if (record.status === 'ignored') throw new NotReplayableError(`delivery ${deliveryId} is a ${record.event} event, which Zekt does not route`);
  const { lastError: _e, leaseUntil: _l, nextAttemptAt: _n, deliveredAt: _d, ...rest } = record;
  const updated = await deliveries.update({ ...rest, status: 'received', attempts: 0, updatedAt: now.toISOString() });
  await announceDeliveries(queue, [deliveryId]);
  return updated;
}
