/**
 * When the tenant's subscriptions are read again, besides on demand: a forwarded delivery names
 * its installation (the tenant learns its installations this way — see subscription-sync-state.ts);
 * an `installation` or `installation_repositories` event asks for a full sync, and a `push` (the
 * ingress forwards only those touching `.github/zekt.yml` on the default branch) for a sync of its
 * repository. Syncs are queued, not run in the intake: the intake answers the ingress at once.
 */
import type { QueueClient } from '@azure/storage-queue';
import { sendJson } from '../../storage/queue-message.ts';
import type { Logger } from '../../core/logger.ts';
import type { ForwardedDelivery } from '../../ingress/forward-to-tenant.ts';
import type { SubscriptionSyncState } from './subscription-sync-state.ts';
import { UnknownRepositoryError, type SubscriptionSync } from './sync-subscriptions.ts';

/** The queue message: a full sync, or one repository's. */
export interface SyncRequest {
  readonly repositoryId?: number;
  readonly reason: string;
}

/** Installation actions after which the installation is no longer usable. */
const endingActions = new Set(['deleted', 'suspend']);

export function createSubscriptionTriggers(options: { state: SubscriptionSyncState; queue: QueueClient; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  // Every delivery names its installation: remember it in storage once a minute, not once a delivery.
  const rememberedAt = new Map<number, number>();
  return {
    /** Called by the intake for every new forwarded delivery, before it answers. */
    async onDelivery(delivery: ForwardedDelivery): Promise<void> {
      if (delivery.event === 'installation' && endingActions.has(delivery.action ?? '')) {
        rememberedAt.delete(delivery.installationId);
        await options.state.forgetInstallation(delivery.installationId);
      } else if (delivery.event.startsWith('installation') || now().getTime() - (rememberedAt.get(delivery.installationId) ?? -Infinity) > 60_000) {
        await options.state.rememberInstallation(delivery.installationId, now());
        rememberedAt.set(delivery.installationId, now().getTime());
      }
      if (delivery.event === 'installation' || delivery.event === 'installation_repositories') {
        await sendJson(options.queue, { reason: `${delivery.event}.${delivery.action ?? ''}` } satisfies SyncRequest);
      } else if (delivery.event === 'push') {
        const repositoryId = (delivery.payload as { repository?: { id?: unknown } }).repository?.id;
        if (typeof repositoryId === 'number') await sendJson(options.queue, { repositoryId, reason: 'push' } satisfies SyncRequest);
      }
    },
  };
}

/** The queue function's handler. */
export function handleSyncRequest(sync: SubscriptionSync, log: Logger) {
  return async (message: unknown): Promise<void> => {
    const request = message as Partial<SyncRequest>;
    try {
      if (typeof request?.repositoryId === 'number') await sync.syncRepository({ id: request.repositoryId });
      else await sync.syncAll();
    } catch (err) {
      // A repository that left the installations since the push: nothing to read.
      if (err instanceof UnknownRepositoryError) return log.info({ repositoryId: request.repositoryId }, err.message);
      throw err;
    }
  };
}
