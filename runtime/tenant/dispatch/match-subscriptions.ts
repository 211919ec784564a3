/**
 * Who receives an event: the consumers whose subscriptions to its provider match it (workflow by
 * file name, path or name; conclusion; head branch — exact names), kept only when the provider's
 * publish policy allows them. One delivery per consumer: when several of a consumer's entries
 * match, the first one (in its file's order) gives the `event_type`.
 */
import type { PublishPolicy, Subscription } from '../subscriptions/subscription-index.ts';
import { defaultEventType, workflowFileOf, type ZektEvent } from './zekt-event.ts';

export interface Match {
  readonly subscription: Subscription;
  readonly eventType: string;
}

export function subscriptionMatches(event: ZektEvent, s: Subscription): boolean {
  if (s.provider.id !== event.provider.id) return false;
  if (s.workflows?.length) {
    const names = [workflowFileOf(event.workflow.path), event.workflow.path, event.workflow.name].filter(Boolean);
    if (!s.workflows.some((w) => names.includes(w))) return false;
  }
  if (!s.conclusions.includes(event.run.conclusion)) return false;
  if (s.branches?.length && !(event.run.headBranch && s.branches.includes(event.run.headBranch))) return false;
  return true;
}

export function matchSubscriptions(event: ZektEvent, subscriptions: readonly Subscription[], policy: PublishPolicy | undefined): Match[] {
  const allowed = (consumerId: number) => !policy || policy.consumers === 'all' || policy.consumers.includes(consumerId);
  const byConsumer = new Map<number, Match>();
  for (const s of subscriptions) {
    if (byConsumer.has(s.consumer.id) || !allowed(s.consumer.id) || !subscriptionMatches(event, s)) continue;
    byConsumer.set(s.consumer.id, { subscription: s, eventType: s.eventType ?? defaultEventType(event) });
  }
  return [...byConsumer.values()];
}
