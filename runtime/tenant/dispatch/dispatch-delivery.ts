/**
 * The dispatcher: sends one queued delivery to its consumer as `POST /repos/{owner}/{repo}/dispatches`
 * with a broker token for that repository, under the installation's rate budget.
 *
 * Why nothing is lost or sent twice on purpose: a dispatcher first takes a lease on the record
 * (an ETag-guarded write); a second message for the same delivery (a repeat, the sweeper's) finds
 * it leased or no longer `queued` and is dropped. A retry is written to the record (`nextAttemptAt`)
 * before its delayed message is sent; if the process dies between the two, or during the request,
 * the lease runs out and the sweeper re-enqueues the record. The one unavoidable repeat — GitHub
 * accepted but the process died before recording it — carries the same correlation id, so the
 * consumer can tell.
 *
 * The fan-out's first dispatch costs no lease write and no event read: the fan-out creates the
 * record already leased (`leasedForCreate`) and hands over the event it holds (`dispatchCreated`).
 * That lease is as good as a written one: the record was created under it, so until it runs out
 * every other message finds it held, and the settle is guarded by the creation's ETag. Should it
 * be more than half spent before the dispatch starts (a long fan-out), it is renewed under that
 * ETag as any lease is. The event in hand is as fresh as a read: the fan-out read the run's
 * messages after the record existed, so a message stored later finds the delivery held and gets
 * a follow-up (follow-up-delivery.ts); a crash under the lease leaves a queued record the sweeper
 * re-enqueues once the lease has run out.
 */
import type { QueueClient } from '@azure/storage-queue';
import { fetchPost, undiciPost } from '../../core/http-post.ts';
import type { Logger } from '../../core/logger.ts';
import { sendJson } from '../../storage/queue-message.ts';
import { BrokerRefusedError } from '../broker-client.ts';
import type { DeliveryRecord } from './delivery-record.ts';
import { DeliveryChangedError, type DeliveryStore, type StoredDelivery } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';
import type { ZektEvent } from './zekt-event.ts';
import type { RateBudget } from './rate-budget.ts';
import type { DispatchTokens } from './dispatch-tokens.ts';
import { buildClientPayload } from './client-payload.ts';
import { classifyDispatchResponse, type DispatchVerdict } from './classify-dispatch-response.ts';

export interface DispatchMessage {
  /**
   * `dispatch`: a delivery to a consumer; `report`: a settled report to a provider (settle-event.ts);
   * `follow-up`: a late message's follow-up to a consumer (follow-up-delivery.ts).
   */
  readonly kind: 'dispatch' | 'report' | 'follow-up';
  readonly deliveryId: string;
}

export interface DispatcherOptions {
  readonly deliveries: DeliveryStore;
  readonly events: EventStore;
  readonly budget: RateBudget;
  readonly tokens: DispatchTokens;
  readonly queue: QueueClient;
  /** GitHub REST API base URL. */
  readonly apiUrl: string;
  /** Seconds before each retry after a transient failure; its length is the retry budget. */
  readonly retrySchedule: readonly number[];
  /** How long one dispatch request may take (ms). */
  readonly timeoutMs: number;
  /** How long a dispatcher holds a delivery (ms); longer than the request timeout. */
  readonly leaseMs?: number;
  /** Stands in for the network (tests); the POST goes through undici otherwise (core/http-post.ts). */
  readonly fetch?: typeof fetch;
  readonly log: Logger;
  readonly now?: () => number;
  /** The queue message kind this dispatcher's records travel as (`dispatch` by default). */
  readonly messageKind?: DispatchMessage['kind'];
  /** The `client_payload` of a record (the consumer's event payload by default). */
  readonly clientPayload?: (event: ZektEvent, record: DeliveryRecord) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function createDispatcher(options: DispatcherOptions) {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? Math.max(60_000, options.timeoutMs * 3);
  const post = options.fetch ? fetchPost(options.fetch) : undiciPost;
  const kind = options.messageKind ?? 'dispatch';
  const clientPayload = options.clientPayload ?? buildClientPayload;

  /**
   * The queue delays a message by whole seconds: the fraction is waited here first, so a delivery
   * held until a budget slot frees is visible when it frees, not up to a second later (and this
   * process's poller hears of it then, queue-sends.ts). A crash during the wait is a crash between
   * the record and its message: the sweeper re-enqueues it.
   */
  const enqueue = async (deliveryId: string, delayMs = 0) => {
    const seconds = delayMs > 0 ? Math.floor(delayMs / 1000) : 0;
    if (delayMs > seconds * 1000) await new Promise((resolve) => setTimeout(resolve, delayMs - seconds * 1000));
    await sendJson(options.queue, { kind, deliveryId } satisfies DispatchMessage, seconds || undefined);
  };

  /**
   * Writes the outcome, keeping what a run link wrote meanwhile (a run may start before we record
   * 204). Usually nothing did: one write over the lease's own ETag; else read, change and write.
   */
  async function settle(id: string, change: (r: DeliveryRecord) => DeliveryRecord, leased?: { record: DeliveryRecord; etag: string }): Promise<DeliveryRecord | undefined> {
    const keepLink = (current: DeliveryRecord) => {
      const next = change(current);
      return current.linkedRun ? { ...next, status: current.status, linkedRun: current.linkedRun } : next;
    };
    if (leased) {
      try {
        const next = keepLink(leased.record);
        await options.deliveries.replace(next, leased.etag);
        return next;
      } catch (err) {
        if (!(err instanceof DeliveryChangedError)) throw err;
      }
    }
    return options.deliveries.update(id, keepLink);
  }

  /** `sent`: a request reached (or may have reached) GitHub; `budgetWait`: held back by the budget. */
  type Attempt = { verdict: DispatchVerdict; sent: boolean; budgetWait?: boolean; installationId?: number; messageIds?: string[] };

  async function send(record: DeliveryRecord, inHand?: ZektEvent): Promise<Attempt> {
    const event = inHand ?? (await options.events.get(record.eventId));
    if (!event) return { verdict: { kind: 'dead', reason: `event ${record.eventId} is missing` }, sent: false };
    let token;
    try {
      token = await options.tokens.forRepository(record.consumer.id);
    } catch (err) {
      // The broker refuses a repository outside the tenant's installations: that consumer never gets one.
      if (err instanceof BrokerRefusedError && err.status >= 400 && err.status < 500) {
        const reason = `the token broker refused a token for ${record.consumer.fullName} (${err.status}): it is not in an installation of this tenant`;
        return { verdict: { kind: 'dead', reason }, sent: false };
      }
      return { verdict: { kind: 'transient', reason: `no token from the broker: ${(err as Error).message}` }, sent: false };
    }
    const payload = await clientPayload(event, record);
    // What this dispatch told the consumer: a message the event gains later gets a follow-up.
    const messageIds = Array.isArray(payload.messages) ? (payload.messages as { id?: unknown }[]).map((m) => String(m.id)) : [];
    const slot = await options.budget.acquire(token.installationId);
    const installationId = token.installationId;
    if (!slot.granted) return { verdict: { kind: 'rate-limited', untilMs: now() + slot.waitMs, reason: 'waiting for the rate budget' }, sent: false, budgetWait: true, installationId };
    try {
      const res = await post(`${options.apiUrl}/repos/${record.consumer.fullName}/dispatches`, {
        headers: {
          authorization: `token ${token.token}`,
          accept: 'application/vnd.github+json',
          'content-type': 'application/json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'zekt-dispatcher',
        },
        body: JSON.stringify({ event_type: record.eventType, client_payload: payload }),
        timeoutMs: options.timeoutMs,
      });
      // Read (a 204 has nothing) so that the connection goes back to the pool; GitHub's error bodies are short.
      const text = await res.text(64 * 1024).catch(() => '');
      let message = '';
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
      } catch {
        message = text.slice(0, 200);
      }
      if (res.status === 401) options.tokens.forget(record.consumer.id);
      return { verdict: classifyDispatchResponse(res.status, res.headers, message, now()), sent: true, installationId, messageIds };
    } catch (err) {
      return { verdict: { kind: 'transient', reason: `no answer from GitHub: ${(err as Error).message}` }, sent: true, installationId };
    }
  }

  return {
    enqueue,

    async handle(message: DispatchMessage): Promise<void> {
      const stored = await options.deliveries.read(message.deliveryId);
      if (stored) await dispatchStored(stored);
    },

    /** A new record as the fan-out creates it: already leased by the invocation that creates it. */
    leasedForCreate: (record: DeliveryRecord): DeliveryRecord => ({ ...record, leaseUntil: now() + leaseMs }),

    /**
     * A record the caller has just created with `leasedForCreate` (the fan-out's first dispatch),
     * with its ETag and the event the caller holds: no lease write, no read.
     */
    dispatchCreated: (stored: StoredDelivery, event: ZektEvent): Promise<void> => dispatchStored(stored, event),
  };

  async function dispatchStored(stored: StoredDelivery, created?: ZektEvent): Promise<void> {
    if (stored.record.status !== 'queued') return;
    const at = now();
    const { record } = stored;
    // Early (a repeat of a message whose retry is pending) or held by another dispatcher: not ours.
    if (record.nextAttemptAt && Date.parse(record.nextAttemptAt) > at + 1000) return;
    // A record created leased by this invocation is held by us, not by another; its ETag proves it
    // unchanged. Held since its creation, so the event in hand is good; once renewed, it is read.
    const ownLease = created !== undefined && (record.leaseUntil ?? 0) - at >= leaseMs / 2;
    if (!created && (record.leaseUntil ?? 0) > at) return;
    let leased: DeliveryRecord = ownLease ? record : { ...record, leaseUntil: at + leaseMs, updatedAt: new Date(at).toISOString() };
    let lease: { record: DeliveryRecord; etag: string };
    try {
      lease = { record: leased, etag: ownLease ? stored.etag : await options.deliveries.replace(leased, stored.etag) };
    } catch (err) {
      if (err instanceof DeliveryChangedError) return;
      throw err;
    }
    const log = options.log.child({ deliveryId: record.id, consumer: record.consumer.fullName });
    const { verdict, sent, budgetWait = false, installationId, messageIds } = await send(leased, ownLease ? created : undefined);
    const done = now();
    const iso = new Date(done).toISOString();
    const { leaseUntil: _lease, nextAttemptAt: _next, ...base } = leased;
    leased = { ...base, ...(installationId !== undefined ? { installationId } : {}), updatedAt: iso };
    const attempts = record.attempts + (sent ? 1 : 0);

    if (verdict.kind === 'dispatched') {
      await settle(record.id, () => ({ ...leased, status: 'dispatched', attempts, dispatchedAt: iso, ...(messageIds ? { messageIds } : {}) }), lease);
      log.info({ attempts }, 'delivery dispatched');
      return;
    }
    if (verdict.kind === 'rate-limited') {
      if (!budgetWait && installationId !== undefined) await options.budget.pause(installationId, verdict.untilMs);
      const nextAttemptAt = new Date(verdict.untilMs).toISOString();
      await settle(record.id, () => ({
        ...leased,
        status: 'queued',
        attempts,
        nextAttemptAt,
        ...(budgetWait ? {} : { lastError: verdict.reason }),
      }), lease);
      await enqueue(record.id, verdict.untilMs - done);
      if (!budgetWait) log.warn({ nextAttemptAt, reason: verdict.reason }, 'dispatch rate limited; will retry');
      return;
    }
    const retries = record.retries + 1;
    const delay = options.retrySchedule[retries - 1];
    if (verdict.kind === 'transient' && delay !== undefined) {
      const nextAttemptAt = new Date(done + delay * 1000).toISOString();
      await settle(record.id, () => ({ ...leased, status: 'queued', attempts, retries, nextAttemptAt, lastError: verdict.reason }), lease);
      await enqueue(record.id, delay * 1000);
      log.warn({ nextAttemptAt, reason: verdict.reason }, 'dispatch failed; will retry');
      return;
    }
    const reason = verdict.kind === 'transient' ? `gave up after ${retries} failed attempts: ${verdict.reason}` : verdict.reason;
    await settle(record.id, () => ({ ...leased, status: 'dead', attempts, retries, lastError: reason }), lease);
    log.warn({ reason }, 'delivery dead');
  }
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
