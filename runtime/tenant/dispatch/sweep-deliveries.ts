/**
 * The deliveries timer (every minute): the safety net behind the queue, and the clock of
 * confirmation.
 * - A `queued` record overdue by `staleMs` that no dispatcher holds lost its message (a crash
 *   between the record and its message, or during a dispatch): it is enqueued again. A message
 *   still in the queue for it is harmless: the dispatcher's lease lets only one of them send.
 * - A `dispatched` record with no linked run `confirmAfterMs` after its dispatch becomes
 *   `unconfirmed`, with the likely causes. A run that links later still moves it to `started`.
 */
import type { Logger } from '../../core/logger.ts';
import type { DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';

export const unconfirmedCauses = (record: DeliveryRecord): string[] => [
  `no workflow on the default branch of ${record.consumer.fullName} listens for repository_dispatch with types: [${record.eventType}]`,
  'the consumer workflow does not name its run after the correlation id (run-name: ${{ github.event.client_payload.zekt.correlation_id }}) and posted no receipt',
  'Actions is disabled on the repository, or the workflow file does not parse',
];

export interface SweepOptions {
  readonly deliveries: DeliveryStore;
  readonly enqueue: (deliveryId: string) => Promise<void>;
  /** How long a queued record may be overdue before it counts as lost (ms). */
  readonly staleMs: number;
  /** How long a dispatched delivery may wait for its run (ms). */
  readonly confirmAfterMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export function createDeliverySweeper(options: SweepOptions) {
  const now = options.now ?? Date.now;
  return async function sweepDeliveries(): Promise<{ requeued: number; unconfirmed: number }> {
    const at = now();
    const stale = await options.deliveries.staleQueued(at, at - options.staleMs);
    await Promise.all(stale.map((r) => options.enqueue(r.id)));
    const waiting = await options.deliveries.unlinkedSince(at - options.confirmAfterMs);
    let unconfirmed = 0;
    for (const r of waiting) {
      const updated = await options.deliveries.update(r.id, (current) =>
        current.status === 'dispatched' && !current.linkedRun
          ? { ...current, status: 'unconfirmed', likelyCauses: unconfirmedCauses(current), updatedAt: new Date(at).toISOString() }
          : undefined,
      );
      if (updated?.status === 'unconfirmed') unconfirmed++;
    }
    if (stale.length || unconfirmed) options.log.info({ requeued: stale.length, unconfirmed }, 'deliveries swept');
    return { requeued: stale.length, unconfirmed };
  };
}
