/**
 * GitHub never redelivers a failed webhook by itself
 * (https://docs.github.com/webhooks/using-webhooks/handling-failed-webhook-deliveries). This timer
 * asks the App's deliveries API for deliveries that failed since its last run, skips those Zekt
 * stored anyway or that a later attempt delivered, and requests redelivery of the rest — at most
 * `maxPerRun` per run, so a long outage is worked off over several runs instead of in one burst.
 */
import type { TableClient } from '@azure/data-tables';
import type { Logger } from '../core/logger.ts';
import type { AppRequest } from '../github/create-app-request.ts';
import { DeliveryNotFoundError, type DeliveryStore } from './delivery-store.ts';
import { statusOf } from '../storage/status-of.ts';

interface HookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
}

export interface RedeliveryOptions {
  readonly request: AppRequest;
  readonly deliveries: DeliveryStore;
  /** Where the time of the last run is kept (one row). */
  readonly stateTable: TableClient;
  readonly maxPerRun: number;
  /** On the first run, look back this far (1 h by default). */
  readonly firstLookBackMs?: number;
  readonly log: Logger;
  readonly now?: () => Date;
}

const cursorKey = { partitionKey: 'redelivery-cursor', rowKey: 'github-app-hook' };

export async function redeliverFailedDeliveries(options: RedeliveryOptions): Promise<{ requested: string[]; examined: number }> {
  const runStartedAt = (options.now ?? (() => new Date()))();
  let since = new Date(runStartedAt.getTime() - (options.firstLookBackMs ?? 3_600_000));
  try {
    const cursor = await options.stateTable.getEntity<{ since: string }>(cursorKey.partitionKey, cursorKey.rowKey);
    since = new Date(cursor.since);
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }

  // Newest first; stop paging once past `since`.
  const attemptsByGuid = new Map<string, HookDelivery[]>();
  let examined = 0;
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await options.request('GET /app/hook/deliveries', { per_page: 100, ...(cursor ? { cursor } : {}) });
    const items = res.data as HookDelivery[];
    let reachedSince = false;
    for (const d of items) {
      if (Date.parse(d.delivered_at) < since.getTime()) {
        reachedSince = true;
        break;
      }
      examined++;
      attemptsByGuid.set(d.guid, [...(attemptsByGuid.get(d.guid) ?? []), d]);
    }
    const next = /<[^>]*[?&]cursor=([^&>]+)[^>]*>;\s*rel="next"/.exec(String(res.headers.link ?? ''));
    if (reachedSince || !next?.[1] || items.length === 0) break;
    cursor = decodeURIComponent(next[1]);
  }

  // Oldest first, so a backlog larger than one run's bound is worked off in order.
  const candidates: { guid: string; newest: HookDelivery; oldestAt: string; oldestId: number }[] = [];
  for (const [guid, attempts] of attemptsByGuid) {
    if (attempts.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    if (attempts.some((a) => a.redelivery)) continue; // already asked once; an operator can replay
    if (await storedAlready(options.deliveries, guid)) continue;
    const oldest = attempts.reduce((a, b) => (b.id < a.id ? b : a));
    candidates.push({ guid, newest: attempts[0] as HookDelivery, oldestAt: oldest.delivered_at, oldestId: oldest.id });
  }
  // Delivery ids grow with time (timestamps have one-second precision).
  candidates.sort((a, b) => a.oldestId - b.oldestId);
  const requested: string[] = [];
  let nextSince = runStartedAt;
  for (const candidate of candidates) {
    if (requested.length >= options.maxPerRun) {
      // The bound is reached: the next run starts at the first delivery left over.
      nextSince = new Date(candidate.oldestAt);
      break;
    }
    try {
      await options.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: candidate.newest.id });
      requested.push(candidate.guid);
    } catch (err) {
      options.log.warn({ err, deliveryId: candidate.guid }, 'GitHub refused a redelivery request');
    }
  }
  await options.stateTable.upsertEntity({ ...cursorKey, since: nextSince.toISOString() }, 'Replace');
  if (requested.length) options.log.info({ requested: requested.length, examined }, 'asked GitHub to redeliver failed deliveries');
  return { requested, examined };
}

async function storedAlready(deliveries: DeliveryStore, guid: string): Promise<boolean> {
  try {
    await deliveries.get(guid);
    return true;
  } catch (err) {
    if (err instanceof DeliveryNotFoundError) return false;
    throw err;
  }
}
