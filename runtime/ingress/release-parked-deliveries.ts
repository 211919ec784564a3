/**
 * Parked deliveries wait for their installation to be bound to a tenant. Binding calls this:
 * each parked delivery of the installation goes back to `received` and is announced to the router.
 */
import type { QueueClient } from '@azure/storage-queue';
import { DeliveryChangedError, type DeliveryStore } from './delivery-store.ts';
import { announceDeliveries } from './route-announcement.ts';

export async function releaseParkedDeliveries(
  deliveries: DeliveryStore,
  queue: QueueClient,
  installationId: number,
  now: Date = new Date(),
): Promise<number> {
  const parked = await deliveries.query({ installationId, status: 'parked' });
  const released: string[] = [];
  for (const listed of parked) {
    try {
      // Query results leave the body out; update the full row.
      const record = await deliveries.get(listed.deliveryId);
      if (record.status !== 'parked') continue;
      const { lastError: _e, ...rest } = record;
      await deliveries.update({ ...rest, status: 'received', updatedAt: now.toISOString() });
      released.push(record.deliveryId);
    } catch (err) {
      if (!(err instanceof DeliveryChangedError)) throw err;
    }
  }
  await announceDeliveries(queue, released);
  return released.length;
}
