/**
 * Wires subscriptions as code onto a tenant's storage: the index and sync state (its
 * `subscriptions` table), the sync (broker tokens, GitHub reads), and the tenant function table's
 * entries — the API behind the tenant credential, the sync queue, and the timer that syncs every
 * repository in case a webhook was lost.
 */
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../storage/create-storage.ts';
import type { FunctionDefinition } from '../../functions/function-table.ts';
import type { ForwardSecrets } from '../../ingress/forward-to-tenant.ts';
import type { TokenRequest } from '../../identity/token-broker.ts';
import type { InstallationToken } from '../broker-client.ts';
import { requireTenantApiCredential } from '../tenant-api-credential.ts';
import { tenantStorageLayout } from '../../../tenant-stack/tenant-outputs.ts';
import { createSubscriptionIndex } from './subscription-index.ts';
import { createSubscriptionSyncState } from './subscription-sync-state.ts';
import { createGitHubReads } from './github-reads.ts';
import { createSubscriptionSync } from './sync-subscriptions.ts';
import { createSubscriptionsApi } from './subscriptions-api.ts';
import { createSubscriptionTriggers, handleSyncRequest } from './subscription-triggers.ts';

export const subscriptionsSyncQueue = 'subscriptions-sync';
/** Every 15 minutes: a lost push or installation webhook is made good within that. */
export const subscriptionsSyncSchedule = '0 */15 * * * *';

export interface SubscriptionsDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly secrets: () => Promise<ForwardSecrets | undefined>;
  readonly broker: { installationToken(request: TokenRequest): Promise<InstallationToken> };
  /** GitHub's REST API base URL. */
  readonly githubApiUrl: string;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export function createSubscriptions(deps: SubscriptionsDeps) {
  const table = deps.storage.table(tenantStorageLayout.tables[3]);
  const index = createSubscriptionIndex(table);
  const state = createSubscriptionSyncState(table);
  const sync = createSubscriptionSync({
    index,
    state,
    broker: deps.broker,
    github: createGitHubReads({ apiUrl: deps.githubApiUrl, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const api = createSubscriptionsApi({ index, state, sync });
  const triggers = createSubscriptionTriggers({ state, queue: deps.storage.queue(subscriptionsSyncQueue), ...(deps.now ? { now: deps.now } : {}) });
  const guard = { tenantId: deps.tenantId, secrets: deps.secrets };

  const functions: FunctionDefinition[] = [
    // The tenant credential is the authentication (the platform holds no function key of the tenant).
    { kind: 'http', name: 'subscriptions', route: 'subscriptions', methods: ['GET'], authLevel: 'anonymous', handler: requireTenantApiCredential(guard, api.list) },
    { kind: 'http', name: 'subscriptionsSync', route: 'subscriptions/sync', methods: ['POST'], authLevel: 'anonymous', handler: requireTenantApiCredential(guard, api.sync) },
    { kind: 'queue', name: 'syncSubscriptions', queueName: subscriptionsSyncQueue, handler: handleSyncRequest(sync, deps.log) },
    {
      kind: 'timer',
      name: 'syncSubscriptionsTimer',
      schedule: subscriptionsSyncSchedule,
      handler: async () => {
        await sync.syncAll();
      },
    },
  ];
  return { functions, index, state, sync, onDelivery: triggers.onDelivery };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
