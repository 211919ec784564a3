/**
 * The delivery records' answer to the message endpoint: may this repository fetch this message?
 * Only when the message's event was dispatched to it (a delivery that GitHub accepted at least
 * once, whatever happened next). A queued or dead delivery never reached the consumer.
 */
import type { WasMessageDeliveredTo } from '../message-reference.ts';
import { deliveryIdOf } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';

export function createWasMessageDeliveredTo(options: { events: EventStore; deliveries: DeliveryStore }): WasMessageDeliveredTo {
  return async (messageId, consumerRepositoryId) => {
    const eventId = await options.events.eventOfMessage(messageId);
    if (!eventId) return false;
    const stored = await options.deliveries.read(deliveryIdOf(eventId, consumerRepositoryId));
    return Boolean(stored && (stored.record.dispatchedAt || ['dispatched', 'started', 'completed', 'unconfirmed'].includes(stored.record.status)));
  };
}
