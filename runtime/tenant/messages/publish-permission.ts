/**
 * Who may post messages: a repository of this tenant's installations whose publish policy does
 * not shut every consumer out. The policy comes from the provider's `.github/zekt.yml`
 * (`publish:`, kept in the shared subscription index): without one, every repository of the
 * tenant's installations may receive its events, so its runs may post; a policy naming no
 * consumer at all (`consumers: []`) publishes to nobody, and its messages are refused.
 */
import type { SubscriptionIndex } from '../subscriptions/subscription-index.ts';

/** Whether runs of this repository may post messages (it is already known to be the tenant's). */
export type MayPublish = (repositoryId: number) => Promise<boolean>;

export function publishPermission(index: Pick<SubscriptionIndex, 'publishPolicyOf'>): MayPublish {
  return async (repositoryId) => {
    const policy = await index.publishPolicyOf(repositoryId);
    return !policy || policy.consumers === 'all' || policy.consumers.length > 0;
  };
}
