/**
 * Wires orchestration onto a tenant's own storage: events in `events`, delivery records and the
 * rate budget in `deliveries`, subscriptions in `subscriptions`, work on the `deliveries` queue.
 * Adds to the tenant's function table the queue function (fan-out, dispatch, settled reports), the
 * sweeper timer and the four API routes; hands other parts what they call (`acceptRun` for the intake,
 * `linkDelivery`, `wasMessageDeliveredTo` and `onMessagePosted` for the message endpoints).
 */
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../storage/create-storage.ts';
import type { FunctionDefinition } from '../../functions/function-table.ts';
import type { ForwardSecrets } from '../../ingress/forward-to-tenant.ts';
import { tenantStorageLayout } from '../../../tenant-stack/tenant-outputs.ts';
import type { MessageReferencesOfRun } from '../message-reference.ts';
import { createSubscriptionIndex } from '../subscriptions/subscription-index.ts';
import type { WorkflowState } from '../workflow-event-store.ts';
import { createEventStore } from './event-store.ts';
import { createDeliveryStore } from './delivery-store.ts';
import { createRateBudget } from './rate-budget.ts';
import { createDispatchTokens, type TokenSource } from './dispatch-tokens.ts';
import { createDispatcher } from './dispatch-delivery.ts';
import { createFanOut, type FanOutResult } from './fan-out-event.ts';
import { createRunLinker } from './link-consumer-run.ts';
import { createDeliverySweeper } from './sweep-deliveries.ts';
import { createRedeliver } from './redeliver-delivery.ts';
import { createWasMessageDeliveredTo } from './was-message-delivered-to.ts';
import { createDeliveryMessageHandler } from './handle-delivery-message.ts';
import { createEventSettlement, hasEnded } from './settle-event.ts';
import { buildSettledReportPayload } from './settled-report.ts';
import type { DeliveryStore } from './delivery-store.ts';
import { createTenantApiHandlers } from './tenant-api-handlers.ts';
import { buildFollowUpPayload, createFollowUps } from './follow-up-delivery.ts';

/** The dispatch settings (runtime/config.ts, `ZEKT_DISPATCH_*`). */
export interface DispatchConfig {
  readonly apiUrl: string;
  readonly retrySchedule: readonly number[];
  readonly timeoutMs: number;
  readonly budgetPerMinute: number;
  readonly budgetPerHour: number;
  /** Added to each of the budget's windows (ms, 1 s by default; not scaled by `budgetTimeScale`). */
  readonly budgetMarginMs?: number;
  /** The budget's windows are this many times shorter (benchmarks; 1 by default). */
  readonly budgetTimeScale?: number;
  readonly confirmAfterSeconds: number;
}

export interface OrchestrationDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly secrets: () => Promise<ForwardSecrets | undefined>;
  /** The broker client; without it nothing is dispatched (records stay queued). */
  readonly broker?: TokenSource;
  readonly config: DispatchConfig;
  /** The message store's answer; no messages by default. */
  readonly messagesOfRun?: MessageReferencesOfRun;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Scaled budget windows (benchmark, tests); a minute and an hour by default. */
  readonly budgetWindows?: { readonly minuteMs: number; readonly hourMs: number; readonly marginMs?: number };
  /** How long a queued record may be overdue before the sweeper re-enqueues it (2 min by default). */
  readonly staleMs?: number;
  /** Runs whose first dispatches go on here after the intake answered, at most (64 by default; `acceptRun`). */
  readonly maxRunsInFlight?: number;
}

export function createOrchestration(deps: OrchestrationDeps) {
  const [eventsTable, , deliveriesTable, subscriptionsTable] = tenantStorageLayout.tables;
  const [queueName] = tenantStorageLayout.queues;
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ part: 'orchestration' });
  const queue = deps.storage.queue(queueName);
  const events = createEventStore(deps.storage.table(eventsTable));
  const deliveries = createDeliveryStore(deps.storage.table(deliveriesTable));
  const reports = createDeliveryStore(deps.storage.table(deliveriesTable), 'report');
  const subscriptions = createSubscriptionIndex(deps.storage.table(subscriptionsTable));
  const budget = createRateBudget({
    table: deps.storage.table(deliveriesTable),
    perMinute: deps.config.budgetPerMinute,
    perHour: deps.config.budgetPerHour,
    ...(deps.config.budgetMarginMs !== undefined ? { marginMs: deps.config.budgetMarginMs } : {}),
    ...(deps.budgetWindows ?? scaledWindows(deps.config.budgetTimeScale ?? 1)),
    now,
  });
  const broker: TokenSource = deps.broker ?? {
    installationToken: () => Promise.reject(new Error('this tenant runtime has no token broker configured (ZEKT_BROKER_URL)')),
  };
  const staleMs = deps.staleMs ?? 120_000;
  // Deliveries and settled reports share the tokens, the budget and the retry rules.
  const dispatcherOptions = {
    events,
    budget,
    tokens: createDispatchTokens(broker, now),
    queue,
    apiUrl: deps.config.apiUrl,
    retrySchedule: deps.config.retrySchedule,
    timeoutMs: deps.config.timeoutMs,
    log,
    now,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  };
  const reportDispatcher = createDispatcher({
    ...dispatcherOptions,
    deliveries: reports,
    messageKind: 'report',
    clientPayload: async (event, record) => buildSettledReportPayload(event, record, await deliveries.ofEvent(event.id)),
  });
  const settlement = createEventSettlement({
    events,
    deliveries,
    reports,
    publishPolicyOf: (id) => subscriptions.publishPolicyOf(id),
    enqueueReport: (id) => reportDispatcher.enqueue(id),
    recheckMs: staleMs,
    log,
    now,
  });
  /** A failed check is repaired by the sweeper; it must not fail the transition that prompted it. */
  const settleQuietly = (eventId: string, check: (id: string) => Promise<unknown> = settlement.check) =>
    check(eventId).catch((err: unknown) => log.warn({ eventId, err: { name: (err as Error).name, message: (err as Error).message } }, 'settlement check failed; the sweeper retries'));
  // Every write that ends a delivery (dead, completed, unconfirmed) goes through `update`: that is where settlement is noticed.
  const observed: DeliveryStore = {
    ...deliveries,
    async update(id, change) {
      const record = await deliveries.update(id, change);
      if (record && hasEnded(record.status)) await settleQuietly(record.eventId, settlement.checkAfterEnd);
      return record;
    },
  };
  const dispatcher = createDispatcher({ ...dispatcherOptions, deliveries: observed });
  // Late messages: a follow-up to each consumer already dispatched without one (follow-up-delivery.ts).
  const followUpStore = createDeliveryStore(deps.storage.table(deliveriesTable), 'follow-up');
  const followUps = createFollowUps({
    events,
    deliveries,
    followUps: followUpStore,
    dispatcher: createDispatcher({ ...dispatcherOptions, deliveries: followUpStore, messageKind: 'follow-up', clientPayload: buildFollowUpPayload }),
    log,
    now,
  });
  const enqueue = (id: string) => dispatcher.enqueue(id);
  const fanOutEvent = createFanOut({
    events,
    deliveries,
    subscriptions,
    messagesOfRun: deps.messagesOfRun ?? (async () => []),
    // The first dispatch runs in the fan-out's own invocation (no message to send, receive, delete,
    // no record to read back, no lease to write: the record is created leased, the event is in hand);
    // a failure leaves it to a message, as every retry is, due when the creation's lease has run out.
    leased: (record) => dispatcher.leasedForCreate(record),
    dispatch: (created, event) =>
      dispatcher.dispatchCreated(created, event).catch((err: unknown) => {
        log.warn({ deliveryId: created.record.id, err: { name: (err as Error).name, message: (err as Error).message } }, 'first dispatch failed; queued instead');
        return dispatcher.enqueue(created.record.id, Math.max(0, (created.record.leaseUntil ?? 0) - now()));
      }),
    log,
    now: () => new Date(now()),
  });
  // The first check puts the event on the open list (and settles one no consumer matched), once
  // the first dispatches have run.
  const afterFanOut = async (result: FanOutResult) => {
    await result.dispatched;
    await settlement.check(result.event.id, result.complete ? { event: result.event, deliveries: result.created } : undefined);
  };
  const fanOut = async (run: WorkflowState) => {
    const result = await fanOutEvent(run);
    if (result) await afterFanOut(result);
    return result;
  };
  const linker = createRunLinker({ deliveries: observed, log, now: () => new Date(now()) });
  const redeliverDelivery = createRedeliver({ deliveries, enqueue, now: () => new Date(now()) });
  // A redelivery reopens a settled event (a new sequence); its next settlement reports again.
  const redeliver = async (id: string) => {
    const record = await redeliverDelivery(id);
    await settleQuietly(record.eventId);
    return record;
  };
  const sweepDeliveries = createDeliverySweeper({ deliveries: observed, enqueue, staleMs, confirmAfterMs: deps.config.confirmAfterSeconds * 1000, log, now });
  const sweep = async () => ({ ...(await sweepDeliveries()), ...(await settlement.sweep()), ...(await followUps.sweep(staleMs)) });
  const handleMessage = createDeliveryMessageHandler({ fanOut, onConsumerRun: linker.onConsumerRun, dispatcher, reports: reportDispatcher, followUps });
  /**
   * A run the intake hands over, before it answers the ingress: what must be durable (the event,
   * its records, the consumer run's link) is written before this resolves, so a crash before the
   * answer leaves the forward to be retried, and the retry finds what was written. The first
   * dispatches and the settlement check then go on here; a crash during them leaves leased
   * `queued` records, which the sweeper re-enqueues. With `maxRunsInFlight` runs still going on
   * here, the next one is answered only once its own dispatches are done: the ingress's forwards
   * wait, rather than this process taking on more than it sends.
   */
  const inFlight = new Set<Promise<void>>();
  const maxRunsInFlight = deps.maxRunsInFlight ?? 64;
  const acceptRun = async (run: WorkflowState): Promise<void> => {
    const [result] = await Promise.all([run.status === 'completed' ? fanOutEvent(run) : undefined, linker.onConsumerRun(run)]);
    if (!result) return;
    const rest = afterFanOut(result).catch((err: unknown) =>
      log.warn({ eventId: result.event.id, err: { name: (err as Error).name, message: (err as Error).message } }, 'after the fan-out: a step failed; the sweeper repairs it'),
    );
    if (inFlight.size >= maxRunsInFlight) return rest;
    inFlight.add(rest);
    void rest.finally(() => inFlight.delete(rest));
  };
  const api = createTenantApiHandlers({ tenantId: deps.tenantId, secrets: deps.secrets, events, deliveries, reports, redeliver });

  const functions: FunctionDefinition[] = [
    { kind: 'queue', name: 'deliveries', queueName, handler: (message) => handleMessage(message) },
    { kind: 'timer', name: 'sweepDeliveries', schedule: '0 * * * * *', handler: async () => void (await sweep()) },
    { kind: 'http', name: 'listEvents', route: 'events', methods: ['GET'], authLevel: 'anonymous', handler: api.listEvents },
    { kind: 'http', name: 'getEvent', route: 'events/{id}', methods: ['GET'], authLevel: 'anonymous', handler: api.getEvent },
    { kind: 'http', name: 'listDeliveries', route: 'deliveries', methods: ['GET'], authLevel: 'anonymous', handler: api.listDeliveries },
    { kind: 'http', name: 'redeliver', route: 'deliveries/{id}/redeliver', methods: ['POST'], authLevel: 'anonymous', handler: api.redeliver },
  ];

  return {
    functions,
    events,
    deliveries,
    reports,
    settlement,
    budget,
    sweep,
    redeliver,
    /**
     * The intake calls this for each completed run and each run whose title carries a correlation
     * id, before it answers: resolves once the run's event, records and link are stored.
     */
    acceptRun,
    /** Resolves once no run handed over here is still being dispatched (tests, shutdown). */
    idle: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
    linkDelivery: linker.linkDelivery,
    /** The message endpoint calls this after a message is stored: a late one gets its follow-ups. */
    onMessagePosted: followUps.onMessagePosted,
    followUps: followUpStore,
    wasMessageDeliveredTo: createWasMessageDeliveredTo({ events, deliveries }),
  };
}

/** A scaled budget clock: a minute and an hour divided by `scale` (the margin is its own setting). */
function scaledWindows(scale: number): { minuteMs: number; hourMs: number } | Record<string, never> {
  return scale === 1 ? {} : { minuteMs: Math.round(60_000 / scale), hourMs: Math.round(3_600_000 / scale) };
}

export type Orchestration = ReturnType<typeof createOrchestration>;
