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
 *   tenant's installations may receive).
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
      const found: Subscription[] = [];
      const rows = table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq 'provider-${providerId}'` } });
      for await (const row of rows) found.push(...(JSON.parse(row.value) as Subscription[]));
      return found;
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
      if ('remove' in policy) return remove('publish', String(policy.provider.id));
      await table.upsertEntity({ partitionKey: 'publish', rowKey: String(policy.provider.id), value: JSON.stringify(policy) }, 'Replace');
    },
  };
}
