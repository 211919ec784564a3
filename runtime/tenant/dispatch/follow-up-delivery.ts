/**
 * Late messages: a provider run's message stored after its event was already dispatched to some
 * consumers without it. Those consumers get a **follow-up**: a second `repository_dispatch` of the
 * same delivery (same `event_type`, event id, delivery id and correlation id) carrying the event's
 * complete current references, marked `client_payload.zekt.follow_up` (docs/action.md).
 *
 * Why nothing is lost: the message side calls `onMessagePosted` once the message is readable. It
 * adds the reference to the event (event-store.ts `addMessages`), then looks at the event's
 * deliveries. Every dispatch reads the event when it builds its payload and records the message ids
 * it carried (`messageIds`), so a delivery is in one of three states at that look:
 * - queued and held by no dispatcher: its dispatch reads the event later, so it carries the message;
 * - dispatched with the message (`messageIds`): nothing to do;
 * - anything else (dispatched without it, or a dispatch in flight that may have read the event
 *   before the reference was added): a follow-up record is created, if absent, and queued.
 * If the event did not exist yet, the fan-out reads the run's references again after creating it
 * (fan-out-event.ts), so the message is in its first dispatch.
 *
 * Exactly once: a follow-up's id is `<deliveryId>~<messageId>`, created if absent, so a repeated
 * notice queues nothing more; the dispatcher's lease does the rest (dispatch-delivery.ts). When a
 * follow-up's turn comes it looks at its delivery again: if the delivery's own dispatch carried the
 * message after all (it was in flight), or will (queued again, by a redelivery), or can never (dead),
 * the follow-up is removed instead of sent; while a dispatch is in flight it waits for the lease.
 */
import type { Logger } from '../../core/logger.ts';
import type { MessageReference, ProviderRunKey } from '../message-reference.ts';
import { buildClientPayload } from './client-payload.ts';
import type { DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { Dispatcher, DispatchMessage } from './dispatch-delivery.ts';
import type { EventStore } from './event-store.ts';
import { eventIdOf, type ZektEvent } from './zekt-event.ts';

/** How soon a follow-up looks again at a delivery whose dispatch is in flight (ms). */
export const inFlightRecheckMs = 2000;

export const followUpIdOf = (deliveryId: string, messageId: string) => `${deliveryId}~${messageId}`;

/** The `client_payload` of a follow-up: its delivery's, with `zekt.follow_up` naming the late message. */
export function buildFollowUpPayload(event: ZektEvent, record: DeliveryRecord): Record<string, unknown> {
  const followUp = record.followUp;
  if (!followUp) return buildClientPayload(event, record);
  const payload = buildClientPayload(event, { ...record, id: followUp.deliveryId }) as { zekt: Record<string, unknown> };
  return { ...payload, zekt: { ...payload.zekt, follow_up: { id: record.id, message_id: followUp.messageId } } };
}

export interface FollowUpOptions {
  readonly events: EventStore;
  /** The consumers' deliveries (read only here). */
  readonly deliveries: DeliveryStore;
  /** The follow-ups' records (the `follow-up` partition). */
  readonly followUps: DeliveryStore;
  /** A dispatcher over `followUps`, of message kind `follow-up`, with `buildFollowUpPayload`. */
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  readonly now?: () => number;
}

export function createFollowUps(options: FollowUpOptions) {
  const now = options.now ?? Date.now;
  const log = options.log.child({ part: 'follow-up' });
  const heldAt = (r: DeliveryRecord, at: number) => (r.leaseUntil ?? 0) > at;
  /** Whether this delivery's own next dispatch reads the event afresh (so carries what it holds now). */
  const willReadEvent = (r: DeliveryRecord, at: number) => r.status === 'queued' && !heldAt(r, at);

  async function request(delivery: DeliveryRecord, messageId: string): Promise<boolean> {
    const at = new Date(now()).toISOString();
    const record: DeliveryRecord = {
      id: followUpIdOf(delivery.id, messageId),
      eventId: delivery.eventId,
      consumer: delivery.consumer,
      eventType: delivery.eventType,
      status: 'queued',
      attempts: 0,
      retries: 0,
      generation: 1,
      correlationId: delivery.correlationId,
      followUp: { deliveryId: delivery.id, messageId },
      createdAt: at,
      updatedAt: at,
    };
    if (!(await options.followUps.createIfAbsent(record))) return false;
    // A crash before this message leaves a queued, overdue record: `sweep` enqueues it again.
    await options.dispatcher.enqueue(record.id);
    return true;
  }

  return {
    /** The message side's notice (`OnMessagePosted`): called once a message is stored and readable. */
    async onMessagePosted(run: ProviderRunKey, reference: MessageReference): Promise<void> {
      const eventId = eventIdOf(run);
      const found = await options.events.addMessages(eventId, [reference]);
      // No event yet: the fan-out's second read finds the message. Replaced meanwhile by a later
      // post under the same name: that post's own notice follows up.
      if (!found || !found.event.messages.some((m) => m.id === reference.id)) return;
      const at = now();
      const pending = (await options.deliveries.ofEvent(eventId)).filter((d) => d.status !== 'dead' && !d.messageIds?.includes(reference.id) && !willReadEvent(d, at));
      const queued = (await Promise.all(pending.map((d) => request(d, reference.id)))).filter(Boolean).length;
      if (queued) log.info({ eventId, messageId: reference.id, followUps: queued }, 'late message: follow-ups queued');
    },

    /** A `follow-up` queue message: send it, or drop it when its delivery carried (or will carry) the message. */
    async handle(message: DispatchMessage): Promise<void> {
      const stored = await options.followUps.read(message.deliveryId);
      const followUp = stored?.record.followUp;
      if (!stored || !followUp || stored.record.status !== 'queued') return;
      const delivery = (await options.deliveries.read(followUp.deliveryId))?.record;
      const at = now();
      if (delivery && delivery.status === 'queued' && heldAt(delivery, at)) {
        // A dispatch of the delivery is in flight: once it is recorded, its `messageIds` decide.
        // Looked at again soon (a request takes seconds at most), not only when the lease ends.
        await options.dispatcher.enqueue(stored.record.id, Math.min((delivery.leaseUntil ?? at) - at, inFlightRecheckMs));
        return;
      }
      if (!delivery || delivery.status === 'dead' || delivery.messageIds?.includes(followUp.messageId) || willReadEvent(delivery, at)) {
        await options.followUps.remove(stored.record.id, stored.etag);
        log.info({ followUpId: stored.record.id }, 'follow-up not needed: the delivery itself carries the message');
        return;
      }
      await options.dispatcher.handle(message);
    },

    /** The sweeper's part: follow-ups whose queue message was lost. */
    async sweep(staleMs: number): Promise<{ followUpsRequeued: number }> {
      const at = now();
      const stale = await options.followUps.staleQueued(at, at - staleMs);
      await Promise.all(stale.map((r) => options.dispatcher.enqueue(r.id)));
      return { followUpsRequeued: stale.length };
    },
  };
}

export type FollowUps = ReturnType<typeof createFollowUps>;
