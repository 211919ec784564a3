/**
 * A provider run attempt completed: its event, once, and a queued delivery per matching consumer.
 *
 * Written so that a crash at any point loses nothing and repeats nothing. Every copy of the
 * `completed` webhook is handled (the intake enqueues each one before it answers), and every step
 * is create-if-absent with ids derived from the run: the event (`<repo>-<run>-<attempt>`, stored
 * open at the sequence of its deliveries, and put on the open list), then each delivery record
 * (`<eventId>.<consumerId>`), then the first dispatch of each record this call created, right
 * here (at most 16 at a time; one that fails is handed to a queue message). A crash after a record
 * but before its dispatch leaves a `queued` record that no message names: the sweeper re-enqueues
 * queued records that are overdue. A later copy of the webhook finds the event and the records and
 * creates nothing more.
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
import pLimit from 'p-limit';
import type { Logger } from '../../core/logger.ts';
import type { MessageReferencesOfRun } from '../message-reference.ts';
import type { SubscriptionIndex } from '../subscriptions/subscription-index.ts';
import type { WorkflowState } from '../workflow-event-store.ts';
import { correlationIdOf, deliveryIdOf, type DeliveryRecord } from './delivery-record.ts';
import type { DeliveryStore, StoredDelivery } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';
import { matchSubscriptions } from './match-subscriptions.ts';
import { carriesReportId } from './settled-report.ts';
import { buildZektEvent, type ZektEvent } from './zekt-event.ts';

export interface FanOutOptions {
  readonly events: EventStore;
  readonly deliveries: DeliveryStore;
  readonly subscriptions: SubscriptionIndex;
  readonly messagesOfRun: MessageReferencesOfRun;
  /** Starts a delivery this call created: its first dispatch, or failing that its queue message. */
  readonly dispatch: (created: StoredDelivery) => Promise<void>;
  readonly log: Logger;
  readonly now?: () => Date;
}

/** First dispatches of one event in flight at once (a fan-out to 200 consumers goes 16 at a time). */
const concurrentDispatches = 16;

export function createFanOut(options: FanOutOptions) {
  const now = options.now ?? (() => new Date());
  return async function fanOutEvent(run: WorkflowState): Promise<{ event: ZektEvent; created: DeliveryRecord[]; complete: boolean } | undefined> {
    if (run.kind !== 'run' || run.status !== 'completed') return undefined;
    if (carriesReportId(run.displayTitle)) {
      options.log.info({ runId: run.runId, repository: run.repository }, 'a run started by a settled report makes no event');
      return undefined;
    }
    const key = { repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt };
    const [messages, subscriptions, policy] = await Promise.all([
      options.messagesOfRun(key),
      options.subscriptions.subscriptionsTo(run.repositoryId),
      options.subscriptions.publishPolicyOf(run.repositoryId),
    ]);
    const fresh = buildZektEvent(run, messages, now());
    const matches = matchSubscriptions(fresh, subscriptions, policy);
    // A new event is stored open at the sequence of its deliveries (one generation each), and put
    // on the open list before they are written: the settlement check after them has nothing to write.
    const built = await options.events.createIfAbsent(matches.length > 0 ? { ...fresh, settlementSequence: matches.length } : fresh);
    const eventCreated = built.created;
    if (eventCreated && matches.length > 0) await options.events.markOpen(built.event.id, now().getTime(), matches.length);
    // A message stored after that read, whose notice found no event yet, would be in neither: look
    // again now that the event exists, before any delivery reads it (follow-up-delivery.ts).
    const again = await options.messagesOfRun(key);
    const late = again.some((m) => !built.event.messages.some((c) => c.id === m.id));
    const event = (late ? (await options.events.addMessages(built.event.id, again))?.event : undefined) ?? built.event;
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
    const stored = (await Promise.all(records.map((r) => options.deliveries.createIfAbsent(r)))).filter((r): r is StoredDelivery => r !== undefined);
    const created = stored.map((s) => s.record);
    // A copy that wrote records the first one did not (it crashed part-way): back on the open list, so the sweeper looks again.
    if (!eventCreated && created.length > 0) await options.events.markOpen(event.id, now().getTime());
    const limit = pLimit(concurrentDispatches);
    await Promise.all(stored.map((s) => limit(() => options.dispatch(s))));
    options.log.info({ eventId: event.id, eventCreated, consumers: matches.length, queued: created.length }, eventCreated ? 'event created' : 'event seen again');
    // A new event whose records were all written here: the caller's settlement check needs no reads.
    return { event, created, complete: eventCreated && created.length === matches.length };
  };
}
