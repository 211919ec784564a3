/**
 * A provider run attempt completed: its event, once, and a queued delivery per matching consumer.
 *
 * Written so that a crash at any point loses nothing and repeats nothing. Every copy of the
 * `completed` webhook is handled (the intake enqueues each one before it answers), and every step
 * is create-if-absent with ids derived from the run: the event (`<repo>-<run>-<attempt>`), then
 * each delivery record (`<eventId>.<consumerId>`), then a dispatch message for each record this
 * call created. A crash after a record but before its message leaves a `queued` record that no
 * message names: the sweeper re-enqueues queued records that are overdue. A later copy of the
 * webhook finds the event and the records and creates nothing more.
 *
 * Its message references are read before the event is created and once more after (a message
 * posted meanwhile is added): with the message side's notice (follow-up-delivery.ts) that closes
 * the race of a message stored while the run's `completed` webhook is handled.
 *
 * A run whose title carries a settled report's id (settled-report.ts) makes no event: it is the
 * provider's answer to a report, and an event of it would report again without end.
 *
 * Which consumers match is decided when the records are written; a copy processed after the
 * subscriptions changed only adds records for newly matching consumers, never removes one.
 */
import type { Logger } from '../../core/logger.ts';
import type { MessageReferencesOfRun } from '../message-reference.ts';
import type { SubscriptionIndex } from '../subscriptions/subscription-index.ts';
import type { WorkflowState } from '../workflow-event-store.ts';
import { correlationIdOf, deliveryIdOf, type DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';
import { matchSubscriptions } from './match-subscriptions.ts';
import { carriesReportId } from './settled-report.ts';
import { buildZektEvent, type ZektEvent } from './zekt-event.ts';

export interface FanOutOptions {
  readonly events: EventStore;
  readonly deliveries: DeliveryStore;
  readonly subscriptions: SubscriptionIndex;
  readonly messagesOfRun: MessageReferencesOfRun;
  readonly enqueue: (deliveryId: string) => Promise<void>;
  readonly log: Logger;
  readonly now?: () => Date;
}

export function createFanOut(options: FanOutOptions) {
  const now = options.now ?? (() => new Date());
  return async function fanOutEvent(run: WorkflowState): Promise<{ event: ZektEvent; created: DeliveryRecord[] } | undefined> {
    if (run.kind !== 'run' || run.status !== 'completed') return undefined;
    if (carriesReportId(run.displayTitle)) {
      options.log.info({ runId: run.runId, repository: run.repository }, 'a run started by a settled report makes no event');
      return undefined;
    }
    const key = { repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt };
    const messages = await options.messagesOfRun(key);
    const built = await options.events.createIfAbsent(buildZektEvent(run, messages, now()));
    // A message stored after that read, whose notice found no event yet, would be in neither: look
    // again now that the event exists, before any delivery reads it (follow-up-delivery.ts).
    const again = await options.messagesOfRun(key);
    const late = again.some((m) => !built.event.messages.some((c) => c.id === m.id));
    const event = (late ? (await options.events.addMessages(built.event.id, again))?.event : undefined) ?? built.event;
    const eventCreated = built.created;
    const [subscriptions, policy] = await Promise.all([options.subscriptions.subscriptionsTo(event.provider.id), options.subscriptions.publishPolicyOf(event.provider.id)]);
    const matches = matchSubscriptions(event, subscriptions, policy);
    const at = now().toISOString();
    const records = matches.map(({ subscription, eventType }): DeliveryRecord => {
      const id = deliveryIdOf(event.id, subscription.consumer.id);
      return {
        id,
        eventId: event.id,
        consumer: subscription.consumer,
        eventType,
        status: 'queued',
        attempts: 0,
        retries: 0,
        generation: 1,
        correlationId: correlationIdOf(id, 1),
        createdAt: at,
        updatedAt: at,
      };
    });
    const created = (await Promise.all(records.map(async (r) => ((await options.deliveries.createIfAbsent(r)) ? r : undefined)))).filter(
      (r): r is DeliveryRecord => r !== undefined,
    );
    await Promise.all(created.map((r) => options.enqueue(r.id)));
    options.log.info({ eventId: event.id, eventCreated, consumers: matches.length, queued: created.length }, eventCreated ? 'event created' : 'event seen again');
    return { event, created };
  };
}
