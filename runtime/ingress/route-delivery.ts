/**
 * The router (queue-triggered): takes announced deliveries and finishes each one — installation
 * events update the installation registry first; then every forwarded event (workflow runs and
 * jobs, installation changes, pushes the intake kept) goes to the tenant bound to its
 * installation, or is parked until one binds it; forwards are retried on the documented schedule
 * and end delivered or dead-lettered with the reason kept. Every step is an ETag-guarded update of
 * the delivery's own record, so a repeated announcement never forwards a delivery twice.
 *
 * Two ways in: the rounds the intake of this process stores (`reserve`: their rows are inserted
 * already claimed by this router, and routed at once from the copies the intake holds, neither
 * claimed again nor read back: no other router touches a claimed row, so the copy is the row), and
 * announcements on the router's queue (retries, the sweeper's, releases, replays, and the rounds
 * `reserve` declined), whose rows are read and claimed under their ETag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../core/logger.ts';
import type { InstallationRegistry, InstallationEventPayload } from '../platform/installation-registry.ts';
import { forwardedEvents, registryEvents, type DeliveryRecord } from './delivery-record.ts';
import { DeliveryChangedError, DeliveryNotFoundError, type DeliveryStore } from './delivery-store.ts';
import { fetchPost, undiciPost } from '../core/http-post.ts';
import { forwardBody, type ForwardSecrets } from './forward-to-tenant.ts';
import { createTenantForwards } from './tenant-forwards.ts';
import { announceDeliveries, type RouteAnnouncement } from './route-announcement.ts';
import type { RouteReservation, StoredDelivery } from './persist-deliveries.ts';
import { isRetryableStatus, nextRetryDelay, parseRetryAfter } from './retry-schedule.ts';

/** Where a tenant takes its deliveries; undefined while the tenant is not ready. */
export type TenantWebhookLookup = (tenantId: string) => Promise<string | undefined>;

export interface RouterOptions {
  readonly deliveries: DeliveryStore;
  /**
   * Where a forwarded delivery's `delivered` mark is written (absent: `deliveries`). Nothing waits
   * on it but the record itself (the claim keeps other routers off the row until then), so
   * create-ingress.ts gathers these into larger rounds than the claims, which a forward waits on.
   */
  readonly deliveredMarks?: Pick<DeliveryStore, 'update'>;
  readonly installations: InstallationRegistry;
  readonly tenantWebhookUrl: TenantWebhookLookup;
  readonly forwardSecrets: (tenantId: string) => Promise<ForwardSecrets | undefined>;
  /** The router's own queue: retries are announced on it with a visibility delay. */
  readonly queue: QueueClient;
  /**
   * Deliveries handed over by the intake held at once, at most (1,000 by default); beyond it a
   * round is declined and announced on the queue, where any instance takes it.
   */
  readonly maxInHand?: number;
  readonly retrySchedule: readonly number[];
  readonly forwardTimeoutMs: number;
  readonly log: Logger;
  /** How long a binding and a tenant address found are reused (2,000 ms by default; 0: each round reads its own). */
  readonly lookupReuseMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Stands in for the network (tests); the forward goes through undici otherwise (core/http-post.ts). */
  readonly fetch?: typeof fetch;
}

/** Waits between looks for an announced row not yet visible (about 2 s in all). */
const missingRowRetryMs: readonly number[] = [20, 100, 400, 1500];

/**
 * POSTs one router instance has open to one tenant at once, and deliveries in one of them, at
 * most: what waits for a request goes in the next together (tenant-forwards.ts). At most 32
 * deliveries are with a tenant at once, as when each had a request of its own.
 */
export const forwardsPerTenant = 4;
export const deliveriesPerForward = 8;
/** A batch's body, at most; a delivery larger than this goes alone. */
const batchBytes = 1024 * 1024;

/** A route taken from the intake that failed part-way is announced again this long after its claim runs out. */
const failedInHandRetrySeconds = 1;

const terminal = new Set(['delivered', 'handled', 'ignored', 'dead', 'parked']);

/** What the deliveries of one announcement look up: read once for all of them. */
interface Lookups {
  tenantOf(installationId: number): Promise<string | undefined>;
  tenantWebhookUrl(tenantId: string): Promise<string | undefined>;
  forwardSecrets(tenantId: string): Promise<ForwardSecrets | undefined>;
}

export function createRouter(options: RouterOptions) {
  const now = options.now ?? (() => new Date());
  const post = options.fetch ? fetchPost(options.fetch) : undiciPost;
  const forwards = createTenantForwards({ requestsPerTenant: forwardsPerTenant, deliveriesPerForward, batchBytes, timeoutMs: options.forwardTimeoutMs, post, now });
  // Long enough for one forward and its bookkeeping; a crashed router's claim expires soon after.
  const leaseFrom = (at: Date) => new Date(at.getTime() + options.forwardTimeoutMs * 2 + 5_000).toISOString();

  /**
   * The intake writes a round's rows and its announcement at the same time, so a router may read
   * the message a moment before the row is visible: look again a few times before concluding that
   * the row's write failed (GitHub then retries it) or that it was purged.
   */
  async function getAnnounced(deliveryId: string): Promise<DeliveryRecord | undefined> {
    const lookUp = () =>
      options.deliveries.get(deliveryId).catch((err: unknown) => {
        if (err instanceof DeliveryNotFoundError) return undefined;
        throw err;
      });
    for (const delayMs of missingRowRetryMs) {
      const record = await lookUp();
      if (record) return record;
      await sleep(delayMs);
    }
    return lookUp();
  }

  /**
   * A read already in flight for the same key is joined rather than repeated, and a binding or
   * address it found is reused for `lookupReuseMs` after it answered: at 200 deliveries a second
   * the rounds of one installation follow each other closer than that, and each would read the
   * same binding and address again (a storage request per delivery). Only what was found is kept:
   * an installation with no tenant, or a tenant not ready, is read again by the next delivery, so a
   * new binding is seen at once. A binding this router changes (an installation event) is forgotten
   * when applied; one changed elsewhere (a reclaim, another instance) is seen within the window.
   */
  const reuseMs = options.lookupReuseMs ?? 2000;
  /** `keepMs` 0: joined while in flight only. */
  const recentReads = <K, V>(read: (key: K) => Promise<V | undefined>, keepMs: number) => {
    const entries = new Map<K, { value: Promise<V | undefined>; until: number }>();
    const lookUp = (key: K): Promise<V | undefined> => {
      const at = Date.now();
      const hit = entries.get(key);
      if (hit && at < hit.until) return hit.value;
      // Expired entries of keys not asked for again are dropped now and then.
      if (entries.size > 10_000) for (const [k, e] of entries) if (e.until <= at) entries.delete(k);
      const started = read(key);
      const entry = { value: started, until: Number.POSITIVE_INFINITY }; // joined while in flight
      entries.set(key, entry);
      const settle = (found: V | undefined) => {
        if (entries.get(key) !== entry) return;
        if (found === undefined || keepMs <= 0) entries.delete(key);
        else entry.until = Date.now() + keepMs;
      };
      started.then(settle, () => settle(undefined));
      return started;
    };
    return Object.assign(lookUp, { forget: (key: K) => void entries.delete(key) });
  };
  const bindings = recentReads((id: number) => options.installations.tenantOf(id), reuseMs);
  const addresses = recentReads((id: string) => options.tenantWebhookUrl(id), reuseMs);
  const reads: Lookups = {
    tenantOf: bindings,
    tenantWebhookUrl: addresses,
    // The secrets store keeps what it read for a while itself (core/secret-store.ts); joined only.
    forwardSecrets: recentReads((id: string) => options.forwardSecrets(id), 0),
  };
  const freshReads: Lookups = {
    tenantOf: (id) => options.installations.tenantOf(id),
    tenantWebhookUrl: (id) => options.tenantWebhookUrl(id),
    forwardSecrets: (id) => options.forwardSecrets(id),
  };

  /**
   * The deliveries of one announcement are routed at the same time, mostly for the same
   * installation and tenant: they share one read of its binding, address and secrets (batched
   * reads; a change made meanwhile is seen by the next announcement, as before by the next read).
   */
  function sharedLookups(): Lookups {
    const memo = <K, V>(read: (key: K) => Promise<V>) => {
      const seen = new Map<K, Promise<V>>();
      return (key: K) => {
        let found = seen.get(key);
        if (!found) {
          found = read(key);
          seen.set(key, found);
          // A failed read is not shared: the next delivery asks again.
          found.catch(() => seen.delete(key));
        }
        return found;
      };
    };
    return {
      tenantOf: memo(reads.tenantOf),
      tenantWebhookUrl: memo(reads.tenantWebhookUrl),
      forwardSecrets: memo(reads.forwardSecrets),
    };
  }

  /**
   * `claimed`: the row as the intake of this process inserted it, claimed by this router (not read
   * back, not claimed again), with the body as GitHub sent it (not inflated from the row).
   */
  async function routeOne(deliveryId: string, roundLookups: Lookups = sharedLookups(), claimed?: StoredDelivery): Promise<void> {
    let lookups = roundLookups;
    const log = options.log.child({ deliveryId });
    const found = claimed?.record ?? (await getAnnounced(deliveryId));
    if (!found) return log.warn('announced delivery has no row: its write failed, or it was purged');
    let record = found;
    const at = now();
    if (terminal.has(record.status)) return;
    if (record.status === 'retrying' && record.nextAttemptAt && Date.parse(record.nextAttemptAt) > at.getTime() + 1000) return;
    if (!claimed && record.leaseUntil && Date.parse(record.leaseUntil) > at.getTime()) return log.debug('another router holds this delivery');
    // The binding and the tenant's address are read while the claim is written (one wait, not
    // three). An installation event changes the binding first, so it reads it only afterwards.
    if (record.installationId !== undefined && forwardedEvents.has(record.event) && !registryEvents.has(record.event)) prefetch(lookups, record.installationId);

    // Claim: one router per delivery at a time (a row inserted claimed by this router already is).
    if (!claimed) {
      try {
        record = await options.deliveries.update({ ...record, leaseUntil: leaseFrom(at) });
      } catch (err) {
        if (err instanceof DeliveryChangedError) return log.debug('another router claimed this delivery');
        throw err;
      }
    }

    const finish = (changes: Partial<DeliveryRecord>, store: Pick<DeliveryStore, 'update'> = options.deliveries) => {
      const { leaseUntil: _l, nextAttemptAt: _n, ...rest } = record;
      return store.update({ ...rest, ...changes, updatedAt: now().toISOString() } as DeliveryRecord);
    };

    // The payload is parsed only where the router reads it (installation events); a forward
    // carries its text as it is (forward-to-tenant.ts `forwardBody`).
    const payloadText = (claimed?.rawBody ?? (await options.deliveries.body(record))).toString('utf8');

    if (registryEvents.has(record.event)) {
      const payload = JSON.parse(payloadText) as InstallationEventPayload;
      // Applied once (a parked one comes back when its installation is bound), then forwarded:
      // the tenant learns its installations and refreshes its subscriptions from them.
      if (!record.appliedAt) {
        await options.installations.applyEvent(record.event, payload, at);
        bindings.forget(record.installationId as number);
        record = await options.deliveries.update({ ...record, appliedAt: at.toISOString() });
        log.info({ event: record.event, action: record.action }, 'installation registry updated');
      }
      // What it changed is read back, not taken from a read of the round started before it.
      lookups = freshReads;
    } else if (!forwardedEvents.has(record.event)) {
      await finish({ status: 'ignored' });
      return;
    }
    if (record.installationId === undefined) {
      await finish({ status: 'dead', lastError: 'the payload names no installation' });
      return log.warn('dead-lettered: no installation in payload');
    }
    const tenantId = await lookups.tenantOf(record.installationId);
    if (!tenantId) {
      await finish({ status: 'parked', lastError: `installation ${record.installationId} is not bound to a tenant` });
      return log.info({ installationId: record.installationId }, 'parked until the installation is bound');
    }
    const tlog = log.child({ tenantId });
    const [url, secrets] = await Promise.all([lookups.tenantWebhookUrl(tenantId), lookups.forwardSecrets(tenantId)]);
    const attempts = record.attempts + 1;
    let failure: { reason: string; retryable: boolean; retryAfter?: number };
    if (!url || !secrets) {
      failure = { reason: `tenant ${tenantId} is not ready to receive deliveries`, retryable: true };
    } else {
      const message = {
        id: record.deliveryId,
        event: record.event,
        ...(record.action ? { action: record.action } : {}),
        installationId: record.installationId,
        tenantId,
        receivedAt: record.receivedAt,
        payloadText,
      };
      const waitingSince = Date.now();
      const result = await forwards.send({
        tenantId,
        url,
        secrets,
        id: record.deliveryId,
        body: forwardBody(message),
        // A long wait for a request may outlast the claim: renew it; a router that took it meanwhile keeps it.
        ready: async () => {
          if (Date.now() - waitingSince <= options.forwardTimeoutMs) return true;
          try {
            record = await options.deliveries.update({ ...record, leaseUntil: leaseFrom(now()) });
            return true;
          } catch (err) {
            if (err instanceof DeliveryChangedError) return false;
            throw err;
          }
        },
      });
      if (!result) return tlog.debug('another router claimed this delivery while it waited for a slot');
      if (result.kind === 'delivered') {
        await finish({ status: 'delivered', tenantId, attempts, deliveredAt: now().toISOString() }, options.deliveredMarks);
        return tlog.info({ attempts, status: result.status }, 'delivered to tenant');
      }
      failure =
        result.kind === 'unreachable'
          ? { reason: result.error, retryable: true }
          : {
              reason: `tenant answered ${result.status}${result.body ? `: ${result.body}` : ''}`,
              retryable: isRetryableStatus(result.status),
              ...(parseRetryAfter(result.retryAfter, now()) !== undefined ? { retryAfter: parseRetryAfter(result.retryAfter, now()) as number } : {}),
            };
    }
    // A forward that did not land may have used an address or binding that changed: what was
    // kept of them is dropped, so the next attempt (this delivery's or another's) reads them again.
    addresses.forget(tenantId);
    bindings.forget(record.installationId);
    const delay = failure.retryable ? nextRetryDelay(options.retrySchedule, attempts, failure.retryAfter, options.random) : undefined;
    if (delay === undefined) {
      await finish({ status: 'dead', tenantId, attempts, lastError: failure.retryable ? `retries exhausted: ${failure.reason}` : failure.reason });
      return tlog.warn({ attempts, reason: failure.reason }, 'dead-lettered');
    }
    const nextAttemptAt = new Date(now().getTime() + delay * 1000).toISOString();
    await finish({ status: 'retrying', tenantId, attempts, lastError: failure.reason, nextAttemptAt });
    await announceDeliveries(options.queue, [record.deliveryId], delay);
    tlog.info({ attempts, delaySeconds: Math.round(delay * 10) / 10, reason: failure.reason }, 'forward failed; retry scheduled');
  }

  /** Starts the reads `routeOne` will await (shared, so it waits for these same reads). */
  function prefetch(lookups: Lookups, installationId: number): void {
    const ignore = () => undefined; // a failed read is seen, and fails, where it is awaited
    void lookups
      .tenantOf(installationId)
      .then((tenantId) => {
        if (!tenantId) return;
        void lookups.tenantWebhookUrl(tenantId).catch(ignore);
        void lookups.forwardSecrets(tenantId).catch(ignore);
      })
      .catch(ignore);
  }

  let inHand = 0;
  const maxInHand = options.maxInHand ?? 1000;

  /**
   * Routes a round the intake handed over, in the background: its new rows (claimed by this
   * router) and its duplicates' ids (read and claimed as announced ones are). A route that fails
   * part-way (storage refused a write) is announced for another try once the claim has run out;
   * if even that fails, the row waits for the sweeper.
   */
  function routeInHand(rows: readonly StoredDelivery[], duplicateIds: readonly string[]): void {
    const routes = [...rows.map((row) => ({ id: row.record.deliveryId, row })), ...duplicateIds.map((id) => ({ id, row: undefined }))];
    if (routes.length === 0) return;
    inHand += routes.length;
    const lookups = sharedLookups();
    void Promise.all(
      routes.map(({ id, row }) =>
        routeOne(id, lookups, row)
          .then(() => undefined, (err: unknown) => ({ id, err, leaseUntil: row?.record.leaseUntil }))
          .finally(() => inHand--),
      ),
    ).then(async (outcomes) => {
      const failed = outcomes.filter((o) => o !== undefined);
      if (failed.length === 0) return;
      // Until the claim runs out, no router (this one included) takes the row.
      const claimLeftMs = Math.max(0, ...failed.map((f) => (f.leaseUntil ? Date.parse(f.leaseUntil) - now().getTime() : 0)));
      const delaySeconds = Math.ceil(claimLeftMs / 1000) + failedInHandRetrySeconds;
      options.log.warn({ deliveries: failed.length, delaySeconds, err: failed[0]?.err }, 'routing failed part-way; announced for another try');
      await announceDeliveries(options.queue, failed.map((f) => f.id), delaySeconds).catch((err: unknown) =>
        options.log.error({ err, deliveries: failed.length }, 'could not announce deliveries whose routing failed; the sweeper will'),
      );
    });
  }

  return {
    routeOne: (deliveryId: string) => routeOne(deliveryId),
    /** Forward requests this router sent to tenants, and the deliveries they carried (tenant-forwards.ts). */
    forwardCounts: () => forwards.counts(),
    /**
     * The intake of this process offers a round of `count` deliveries before writing it: taken
     * unless that would put more than `maxInHand` in hand (then it is announced instead). The new
     * rows are inserted claimed by this router (`leaseUntil`) and handed over once stored.
     */
    reserve(count: number): RouteReservation | undefined {
      if (inHand + count > maxInHand) return undefined;
      inHand += count;
      let handed = false;
      return {
        leaseUntil: leaseFrom(now()),
        handOver: (rows, duplicateIds) => {
          if (handed) return;
          handed = true;
          inHand -= count;
          routeInHand(rows, duplicateIds);
        },
      };
    },

    /** The queue handler: every delivery of one announcement, in parallel (at most `forwardsPerTenant` requests open per tenant). */
    async handleAnnouncement(message: unknown): Promise<void> {
      const announcement = message as Partial<RouteAnnouncement>;
      if (!announcement || !Array.isArray(announcement.deliveryIds)) {
        options.log.error({ message }, 'malformed route announcement dropped');
        return;
      }
      const lookups = sharedLookups();
      const results = await Promise.allSettled(announcement.deliveryIds.map((id) => routeOne(String(id), lookups)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw new AggregateError(failed.map((f) => f.reason as unknown), `${failed.length} deliveries could not be routed`);
    },
  };
}
