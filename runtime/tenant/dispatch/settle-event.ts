/**
 * Settlement: an event is settled when every one of its deliveries has ended — `completed`,
 * `unconfirmed` or `dead`. Settling records `settledAt` and a summary on the event and, when the
 * provider's publish policy asks for it, sends the provider one settled report.
 *
 * Exactly once, however often the last transition is observed: each state of an event's
 * deliveries has a **sequence**, the sum of their generations, which grows with every redelivery
 * (and every delivery added later). The report of a settlement is a record created if absent
 * under `<eventId>.<sequence>`; only the caller that created it enqueues it, so two instances
 * observing the same last transition, or one webhook seen twice, send one report. A redelivery
 * reopens the event (a higher sequence, `settledAt` removed); when it settles again, that is a
 * new sequence and a second report.
 *
 * The event's settlement state only moves forward (`rank`), so a slow observer of an older
 * sequence never marks a reopened event settled. A crash between a delivery's last transition and
 * its check is repaired by the sweeper: an event stays on the `open` list until it is settled.
 */
import type { Logger } from '../../core/logger.ts';
import type { PublishPolicy } from '../subscriptions/subscription-index.ts';
import type { DeliveryRecord, DeliveryStatus } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';
import { reportIdOf, settledReportEventType, summarize } from './settled-report.ts';
import type { ZektEvent } from './zekt-event.ts';

export const endedStatuses: readonly DeliveryStatus[] = ['completed', 'unconfirmed', 'dead'];
export const hasEnded = (status: DeliveryStatus) => endedStatuses.includes(status);

/** Open at sequence n ranks 2n, settled at n ranks 2n + 1; a state with a lower rank never overwrites. */
const rankOf = (e: Pick<ZektEvent, 'settlementSequence' | 'settledAt'>) => (e.settlementSequence ?? -1) * 2 + (e.settledAt ? 1 : 0);

export interface SettlementOptions {
  readonly events: EventStore;
  readonly deliveries: DeliveryStore;
  /** The settled reports' records (the `report` partition). */
  readonly reports: DeliveryStore;
  readonly publishPolicyOf: (providerId: number) => Promise<PublishPolicy | undefined>;
  readonly enqueueReport: (reportId: string) => Promise<void>;
  /** How long an open event waits before the sweeper looks at it again (ms). */
  readonly recheckMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export function createEventSettlement(options: SettlementOptions) {
  const now = options.now ?? Date.now;
  const log = options.log.child({ part: 'settlement' });

  /**
   * Looks at an event's deliveries and settles it if they have all ended; answers what it found.
   * `known`: the caller has just written the event and its deliveries (the fan-out of a new
   * event), so they need not be read back.
   */
  async function check(eventId: string, known?: { event: ZektEvent; deliveries: readonly DeliveryRecord[] }): Promise<'open' | 'settled' | undefined> {
    const event = known?.event ?? (await options.events.get(eventId));
    if (!event) return undefined;
    const deliveries = known?.deliveries ?? (await options.deliveries.ofEvent(eventId));
    const sequence = deliveries.reduce((sum, d) => sum + d.generation, 0);
    const at = now();
    if (!deliveries.every((d) => hasEnded(d.status))) {
      if (rankOf(event) < sequence * 2) {
        await options.events.markOpen(eventId, at, sequence);
        await options.events.update(eventId, (current) => {
          if (rankOf(current) >= sequence * 2) return undefined;
          const { settledAt: _settled, ...rest } = current;
          return { ...rest, settlementSequence: sequence };
        });
      }
      return 'open';
    }
    const settled = await options.events.update(eventId, (current) =>
      rankOf(current) >= sequence * 2 + 1 ? undefined : { ...current, settlementSequence: sequence, settledAt: new Date(at).toISOString(), summary: summarize(deliveries, sequence) },
    );
    // Reopened meanwhile (a redelivery): this observation is out of date; the next one settles it.
    if (!settled || settled.settlementSequence !== sequence || !settled.settledAt) return 'open';
    if (deliveries.length > 0 && (await options.publishPolicyOf(event.provider.id))?.settledReport) await report(settled, sequence, deliveries);
    await options.events.markSettled(eventId, sequence);
    return 'settled';
  }

  async function report(event: ZektEvent, sequence: number, deliveries: readonly DeliveryRecord[]): Promise<void> {
    const at = new Date(now()).toISOString();
    const record: DeliveryRecord = {
      id: `${event.id}.${sequence}`,
      eventId: event.id,
      consumer: event.provider,
      eventType: settledReportEventType,
      status: 'queued',
      attempts: 0,
      retries: 0,
      generation: 1,
      correlationId: reportIdOf(event.id, sequence),
      createdAt: event.settledAt ?? at,
      updatedAt: at,
    };
    if (!(await options.reports.createIfAbsent(record))) return;
    // A crash before this message leaves a queued, overdue report record: `sweep` enqueues it again.
    await options.enqueueReport(record.id);
    log.info({ eventId: event.id, sequence, consumers: deliveries.length, provider: event.provider.fullName }, 'settled report queued');
  }

  return {
    check,

    /**
     * After one delivery ended: while another has not, nothing is settled and nothing need be
     * written (only the fan-out and a redelivery change an event's sequence, and they check in
     * full), so one row is asked for instead of every delivery of the event at every transition.
     * Once none is left, the full check settles it.
     */
    async checkAfterEnd(eventId: string): Promise<'open' | 'settled' | undefined> {
      if (await options.deliveries.anyNotEnded(eventId, endedStatuses)) return 'open';
      return check(eventId);
    },

    /** The sweeper's part: settle events whose last check was lost, and re-enqueue reports whose message was. */
    async sweep(): Promise<{ settled: number; reportsRequeued: number }> {
      const at = now();
      let settled = 0;
      for (const id of await options.events.openSince(at - options.recheckMs, 100)) {
        const found = await check(id);
        if (found === 'settled') settled++;
        else if (found === 'open') await options.events.markOpen(id, at);
        else await options.events.markSettled(id, Number.MAX_SAFE_INTEGER);
      }
      const stale = await options.reports.staleQueued(at, at - options.recheckMs);
      await Promise.all(stale.map((r) => options.enqueueReport(r.id)));
      if (settled || stale.length) log.info({ settled, reportsRequeued: stale.length }, 'settlement swept');
      return { settled, reportsRequeued: stale.length };
    },
  };
}

export type EventSettlement = ReturnType<typeof createEventSettlement>;
