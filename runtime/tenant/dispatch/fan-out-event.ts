/**
 * A provider run attempt completed: its event, once, and a queued delivery per matching consumer.
 *
 * Written so that a crash at any point loses nothing and repeats nothing. Every copy of the
 * `completed` webhook is handled (the intake hands each one over, and answers once this call's
 * writes are done), and every step is create-if-absent with ids derived from the run: the event
 * (`<repo>-<run>-<attempt>`, stored open at the sequence of its deliveries, and put on the open
 * list), then each delivery record
 * (`<eventId>.<consumerId>`; up to 100 in one transaction, each on its own when one exists),
 * created already leased by this call (dispatch-delivery.ts
 * `leasedForCreate`), then the first dispatch of each record this call created, right here (at
 * most 16 at a time; one that fails is handed to a queue message, which the sweeper repeats once
 * the lease has run out). A crash after a record but before its dispatch leaves a `queued` record
 * that no message names: the sweeper re-enqueues queued records that are overdue and unleased. A
 * later copy of the webhook finds the event and the records and creates nothing more.
 *
 * Its message references are read once, after the event and the records exist, and added to the
 * event; the first dispatches carry the event as it then is, without reading it again. That
 * closes the race with the message side's notice (follow-up-delivery.ts): a message readable
 * before this read is in the first dispatch; one stored after it finds the event (so its notice
 * adds it) and each record held by its first dispatch (so its notice queues a follow-up, sent
 * unless that dispatch turns out to have carried it). Every copy of the webhook reads and adds
 * again, so a copy retried after a crash before the references reached the event repairs it.
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
  /** A new record as it is created: leased by this call (dispatch-delivery.ts `leasedForCreate`). */
  readonly leased: (record: DeliveryRecord) => DeliveryRecord;
  /** Starts a delivery this call created, with the event as it holds it: its first dispatch, or failing that its queue message. */
  readonly dispatch: (created: StoredDelivery, event: ZektEvent) => Promise<void>;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface FanOutResult {
  readonly event: ZektEvent;
  readonly created: DeliveryRecord[];
  /** Whether the event is new and every record was written by this call. */
  readonly complete: boolean;
  readonly dispatched: Promise<void>;
}

/** First dispatches of one event in flight at once (a fan-out to 200 consumers goes 16 at a time). */
const concurrentDispatches = 16;

export function createFanOut(options: FanOutOptions) {
  const now = options.now ?? (() => new Date());
  /**
   * Resolves once the event and its records are stored — all that must be durable before the
   * webhook is answered; `dispatched` resolves once the first dispatches have run (each failure is
   * already handed to a queue message, so it never rejects for one).
   */
  return async function fanOutEvent(run: WorkflowState): Promise<FanOutResult | undefined> {
    if (run.kind !== 'run' || run.status !== 'completed') return undefined;
    if (carriesReportId(run.displayTitle)) {
      options.log.info({ runId: run.runId, repository: run.repository }, 'a run started by a settled report makes no event');
      return undefined;
    }
    const key = { repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt };
    const { subscriptions, policy } = await options.subscriptions.audienceOf(run.repositoryId);
    const fresh = buildZektEvent(run, [], now());
    const matches = matchSubscriptions(fresh, subscriptions, policy);
    // A new event is stored open at the sequence of its deliveries (one generation each), and put
    // on the open list with it (one transaction) before they are written: the settlement check
    // after them has nothing to write.
    const built = await (matches.length > 0
      ? options.events.createIfAbsent({ ...fresh, settlementSequence: matches.length }, { at: now().getTime(), sequence: matches.length })
      : options.events.createIfAbsent(fresh));
    const eventCreated = built.created;
    const at = now().toISOString();
    const records = matches.map(({ subscription, eventType }): DeliveryRecord => {
      const id = deliveryIdOf(built.event.id, subscription.consumer.id);
      return options.leased({
        id,
        eventId: built.event.id,
        consumer: subscription.consumer,
        eventType,
        status: 'queued',
        attempts: 0,
        retries: 0,
        generation: 1,
        correlationId: correlationIdOf(id, 1),
        createdAt: at,
        updatedAt: at,
      });
    });
    const stored = (await options.deliveries.createAllIfAbsent(records)).filter((r): r is StoredDelivery => r !== undefined);
    const created = stored.map((s) => s.record);
    // The run's messages, read now that the event and the records exist (see above), onto the event.
    const messages = await options.messagesOfRun(key);
    const missing = messages.some((m) => !built.event.messages.some((c) => c.id === m.id));
    const known = built.etag ? { event: built.event, etag: built.etag } : undefined;
    const event = (missing ? (await options.events.addMessages(built.event.id, messages, known))?.event : undefined) ?? built.event;
    // A copy that wrote records the first one did not (it crashed part-way): back on the open list, so the sweeper looks again.
    if (!eventCreated && created.length > 0) await options.events.markOpen(event.id, now().getTime());
    const limit = pLimit(concurrentDispatches);
    const dispatched = Promise.all(stored.map((s) => limit(() => options.dispatch(s, event)))).then(() => undefined);
    options.log.info({ eventId: event.id, eventCreated, consumers: matches.length, queued: created.length }, eventCreated ? 'event created' : 'event seen again');
    // A new event whose records were all written here: the caller's settlement check needs no reads.
    return { event, created, complete: eventCreated && created.length === matches.length, dispatched };
  };
}
