/**
 * Redeliver from the record: the delivery goes back to `queued` as a new generation (a fresh
 * correlation id `zekt.<deliveryId>.<generation+1>` and a fresh retry schedule; attempts keep
 * counting), and is enqueued. The previous run link is dropped from the record: a run of the older
 * generation that reports later is recorded but no longer decides the status. A delivery still
 * `queued` is already on its way and is refused.
 */
import { correlationIdOf, type DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { DeliveryNotFoundError } from './link-consumer-run.ts';

export class DeliveryPendingError extends Error {
  override name = 'DeliveryPendingError';
}

export function createRedeliver(options: { deliveries: DeliveryStore; enqueue: (deliveryId: string) => Promise<void>; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return async function redeliverDelivery(id: string): Promise<DeliveryRecord> {
    let pending = false;
    const updated = await options.deliveries.update(id, (current) => {
      if (current.status === 'queued') {
        pending = true;
        return undefined;
      }
      const { linkedRun: _run, likelyCauses: _causes, nextAttemptAt: _next, leaseUntil: _lease, dispatchedAt: _at, ...rest } = current;
      const generation = current.generation + 1;
      return { ...rest, status: 'queued', generation, correlationId: correlationIdOf(current.id, generation), retries: 0, updatedAt: now().toISOString() };
    });
    if (!updated) throw new DeliveryNotFoundError(`no delivery ${id}`);
    if (pending) throw new DeliveryPendingError(`delivery ${id} is queued already`);
    await options.enqueue(id);
    return updated;
  };
}
