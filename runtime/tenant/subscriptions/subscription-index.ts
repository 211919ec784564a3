/**
 * The tenant's subscriptions, as its `subscriptions` table holds them: what each consumer
 * repository's `.github/zekt.yml` subscribes to, and what each provider repository's file allows
 * (`publish`). Files are parsed and validated elsewhere; this module only stores the accepted
 * result and answers the one question dispatch asks: who subscribed to this provider?
 *
 * Layout (one table, three kinds of row):
 * - `provider-<providerId>` / `<consumerId>`: the entries of one consumer's file that name that
 *   provider (a partition query answers "subscribers of a provider");
 * - `consumer` / `<consumerId>`: which providers the consumer's accepted file names, so a new
 *   file replaces the old one whole (rows for providers it no longer names are removed);
 * - `publish` / `<providerId>`: the provider's publish policy (absent: every repository of the
 *   tenant's installations may receive);
 * - `provider-<providerId>` / `publish`: the same policy again (`null`: none), beside the
 *   provider's subscribers, so the fan-out's one partition query answers both (`audienceOf`).
 *   Written before the `publish` row, so it is never the older of the two; a provider whose
 *   policy was last written before this row existed has none, and `audienceOf` reads the
 *   `publish` row instead.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';

/** A repository, by GitHub's numeric id (stable across renames) and its current full name. */
export interface RepositoryRef {
  readonly id: number;
  readonly fullName: string;
}

/** One entry of a consumer's `subscriptions:` list, its provider resolved to an id. */
export interface Subscription {
  readonly consumer: RepositoryRef;
  readonly provider: RepositoryRef;
  /** Workflow file names (`release.yml`) or names (`Release`); absent: every workflow. */
  readonly workflows?: readonly string[];
  /** Run conclusions that trigger a delivery (`[success]` when the file omits it). */
  readonly conclusions: readonly string[];
  /** Head branches; absent: any. */
  readonly branches?: readonly string[];
  /** The `repository_dispatch` event type the consumer listens for; absent: the documented default. */
  readonly eventType?: string;
}

/** What a provider's `publish:` section allows. */
export interface PublishPolicy {
  readonly provider: RepositoryRef;
  /** Repository ids that may receive its events, or every repository of the tenant's installations. */
  readonly consumers: 'all' | readonly number[];
  /** Whether the provider asked for one settled report when every delivery of an event has ended. */
  readonly settledReport: boolean;
}

type Row = { partitionKey: string; rowKey: string; value: string };

/** The row key of the policy in a provider's partition (consumer row keys are numeric ids). */
const publishRow = 'publish';

export type SubscriptionIndex = ReturnType<typeof createSubscriptionIndex>;

export function createSubscriptionIndex(table: TableClient) {
  async function get<T>(partitionKey: string, rowKey: string): Promise<T | undefined> {
    try {
      return JSON.parse((await table.getEntity<Row>(partitionKey, rowKey)).value) as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
  async function remove(partitionKey: string, rowKey: string): Promise<void> {
    await table.deleteEntity(partitionKey, rowKey).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  return {
    /** Every consumer's entries naming this provider (not yet filtered by its publish policy). */
    async subscriptionsTo(providerId: number): Promise<Subscription[]> {
      return (await this.audienceOf(providerId)).subscriptions;
    },

    /**
     * The provider's subscribers and its publish policy, in one query as the policy is stored
     * today (the `publish` row of its partition), in two for a policy written before that row.
     */
    async audienceOf(providerId: number): Promise<{ subscriptions: Subscription[]; policy: PublishPolicy | undefined }> {
      const subscriptions: Subscription[] = [];
      let policy: PublishPolicy | null | undefined;
      const rows = table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq 'provider-${providerId}'` } });
      for await (const row of rows) {
        if (row.rowKey === publishRow) policy = JSON.parse(row.value) as PublishPolicy | null;
        else subscriptions.push(...(JSON.parse(row.value) as Subscription[]));
      }
      if (policy === undefined) policy = await get<PublishPolicy>('publish', String(providerId));
      return { subscriptions, policy: policy ?? undefined };
    },

    /** The entries of one consumer's accepted file. */
    async subscriptionsOf(consumerId: number): Promise<Subscription[]> {
      const providers = (await get<number[]>('consumer', String(consumerId))) ?? [];
      const found: Subscription[] = [];
      for (const providerId of providers) found.push(...((await get<Subscription[]>(`provider-${providerId}`, String(consumerId))) ?? []));
      return found;
    },

    /**
     * Replaces one consumer's subscriptions whole with those of its newly accepted file. Rows are
     * written before the ones no longer named are removed: a reader meanwhile sees the old or the
     * new set per provider, never none.
     */
    async replaceConsumer(consumer: RepositoryRef, subscriptions: readonly Subscription[]): Promise<void> {
      const byProvider = new Map<number, Subscription[]>();
      for (const s of subscriptions) {
        if (s.consumer.id !== consumer.id) throw new Error(`subscription of ${s.consumer.fullName} given for ${consumer.fullName}`);
        byProvider.set(s.provider.id, [...(byProvider.get(s.provider.id) ?? []), s]);
      }
      const before = (await get<number[]>('consumer', String(consumer.id))) ?? [];
      for (const [providerId, entries] of byProvider) {
        await table.upsertEntity({ partitionKey: `provider-${providerId}`, rowKey: String(consumer.id), value: JSON.stringify(entries) }, 'Replace');
      }
      await table.upsertEntity({ partitionKey: 'consumer', rowKey: String(consumer.id), value: JSON.stringify([...byProvider.keys()]) }, 'Replace');
      for (const providerId of before) if (!byProvider.has(providerId)) await remove(`provider-${providerId}`, String(consumer.id));
    },

    /** The provider's publish policy; undefined when its file has none (every repository may receive). */
    publishPolicyOf(providerId: number): Promise<PublishPolicy | undefined> {
      return get<PublishPolicy>('publish', String(providerId));
    },

    async setPublishPolicy(policy: PublishPolicy | { provider: RepositoryRef; remove: true }): Promise<void> {
      const removed = 'remove' in policy;
      await table.upsertEntity({ partitionKey: `provider-${policy.provider.id}`, rowKey: publishRow, value: JSON.stringify(removed ? null : policy) }, 'Replace');
      if (removed) return remove('publish', String(policy.provider.id));
      await table.upsertEntity({ partitionKey: 'publish', rowKey: String(policy.provider.id), value: JSON.stringify(policy) }, 'Replace');
    },
  };
}
