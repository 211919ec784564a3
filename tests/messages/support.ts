/**
 * A tenant runtime's message endpoints on the local host, against Azurite and the GitHub double's
 * OIDC issuer. Only the seams whose real parts are built on other branches are fakes here, and
 * each records what it was asked: which repositories are the tenant's (the installations'
 * repositories), which messages were delivered to whom and the receipt's link (the delivery
 * records). The publish policy is the real subscription index on Azurite.
 */
import { randomBytes } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/start-github-double.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createMessageParts } from '../../runtime/tenant/messages/message-functions.ts';
import type { MessageStore } from '../../runtime/tenant/messages/message-store.ts';
import type { DeliveryReceipt } from '../../runtime/tenant/messages/post-receipt.ts';
import { publishPermission } from '../../runtime/tenant/messages/publish-permission.ts';
import type { MessageReference, ProviderRunKey } from '../../runtime/tenant/message-reference.ts';
import { createSubscriptionIndex, type SubscriptionIndex } from '../../runtime/tenant/subscriptions/subscription-index.ts';
import type { TimerFunction } from '../../runtime/functions/function-table.ts';
import { createInvocationContext } from '../../runtime/local-host/invocation-context.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

export const tenantId = 'acme';
export const audience = `zekt:${tenantId}`;

export interface MessageHarness {
  readonly double: GitHubDouble;
  readonly host: LocalHost;
  readonly table: TableClient;
  readonly store: MessageStore;
  readonly index: SubscriptionIndex;
  readonly messagesUrl: string;
  /** Repository ids the fake `isTenantRepository` answers true for. */
  readonly tenantRepositories: Set<number>;
  /** `<messageId>:<consumerRepositoryId>` pairs the fake `wasDelivered` answers true for. */
  readonly delivered: Set<string>;
  /** `<eventId>:<consumerRepositoryId>` pairs the fake `linkDelivery` knows. */
  readonly deliveries: Set<string>;
  readonly receipts: DeliveryReceipt[];
  readonly posted: { run: ProviderRunKey; reference: MessageReference; visible: boolean }[];
  readonly logs: Record<string, unknown>[];
  /** Milliseconds added to the clock of the endpoints and of the double's OIDC issuer. */
  clockOffset: number;
  repositoryId(fullName: string): number;
  token(input: { repository: string; runId: number; runAttempt?: number; audience?: string }): Promise<string>;
  purge(): Promise<void>;
  rows(partition: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * `announce: false` leaves out the fake event side's look at each posted message; `failNotices`
 * makes that look fail while it answers true.
 */
export async function startMessageHarness(options: { maxBytes?: number; announce?: boolean; failNotices?: () => boolean } = {}): Promise<MessageHarness> {
  // One clock for the double (token times) and the endpoints, so a test can move both days ahead.
  const clock = { offset: 0 };
  const double = await startGitHubDouble({ now: () => Date.now() + clock.offset });
  const ids = new Map<string, number>();
  for (const fullName of ['acme/provider', 'acme/consumer', 'acme/bystander', 'acme/quiet', 'globex/outsider']) {
    ids.set(fullName, double.addRepository({ fullName, ownerType: 'Organization' }).id);
  }
  double.addInstallation({ account: 'acme', repositories: ['provider', 'consumer', 'bystander', 'quiet'] });
  double.addInstallation({ account: 'globex', repositories: ['outsider'] });
  const storage = await sharedStorage();
  const table = storage.table(uniqueName('messages'));
  const subscriptions = storage.table(uniqueName('subscriptions'));
  await Promise.all([table.createTable(), subscriptions.createTable()]);
  const index = createSubscriptionIndex(subscriptions);
  const key = randomBytes(32).toString('base64');
  const { log, lines } = memoryLogger();

  // The host's URL is known once it listens; references read it when they are built.
  const where = { url: '' };
  const harness = {
    double,
    table,
    index,
    tenantRepositories: new Set<number>(),
    delivered: new Set<string>(),
    deliveries: new Set<string>(),
    receipts: [] as DeliveryReceipt[],
    posted: [] as MessageHarness['posted'],
    logs: lines,
    get clockOffset() {
      return clock.offset;
    },
    set clockOffset(value: number) {
      clock.offset = value;
    },
  } as Omit<MessageHarness, 'host' | 'store' | 'messagesUrl' | 'repositoryId' | 'token' | 'purge' | 'rows' | 'close'> & { clockOffset: number };
  const repositoryId = (fullName: string) => {
    const id = ids.get(fullName);
    if (id === undefined) throw new Error(`no repository ${fullName} in the harness`);
    return id;
  };

  const parts = createMessageParts({
    tenantId,
    table,
    log,
    oidcIssuer: double.oidcIssuer,
    messageKeys: async () => ({ current: key }),
    settings: { maxBytes: options.maxBytes ?? 64 * 1024, maxDepth: 32, ttlSeconds: 7 * 86400 },
    messagesUrl: () => `${where.url}/api/messages`,
    isTenantRepository: async (id) => harness.tenantRepositories.has(id),
    mayPublish: publishPermission(index),
    wasDelivered: async (messageId, consumer) => harness.delivered.has(`${messageId}:${consumer}`),
    linkDelivery: async (receipt) => {
      if (!harness.deliveries.has(`${receipt.eventId}:${receipt.consumerRepositoryId}`)) return 'no-delivery';
      harness.receipts.push(receipt);
      return 'linked';
    },
    ...(options.announce === false ? {} : { onPosted: async (run: ProviderRunKey, reference: MessageReference) => {
      if (options.failNotices?.()) throw new Error('the event side is unavailable');
      // What the event side would do: look again. The message must already be visible to that look.
      const visible = (await parts.store.referencesOfRun(run)).some((r) => r.id === reference.id);
      harness.posted.push({ run, reference, visible });
    } }),
    now: () => Date.now() + clock.offset,
  });
  const host = await createLocalHost({ table: parts.functions, log, timers: false });
  where.url = host.url;
  const purgeFn = parts.functions.find((f): f is TimerFunction => f.kind === 'timer') as TimerFunction;

  // Every repository of the acme installation is the tenant's; globex's is not.
  for (const name of ['provider', 'consumer', 'bystander', 'quiet']) harness.tenantRepositories.add(repositoryId(`acme/${name}`));

  return Object.assign(harness, {
    host,
    store: parts.store,
    messagesUrl: `${host.url}/api/messages`,
    repositoryId,
    token: (input: { repository: string; runId: number; runAttempt?: number; audience?: string }) =>
      double.issueOidcToken({ repository: input.repository, audience: input.audience ?? audience, runId: input.runId, runAttempt: input.runAttempt ?? 1 }),
    purge: () => purgeFn.handler({ isPastDue: false }, createInvocationContext('purgeMessages', log, { trigger: 'timer' })),
    async rows(partition: string) {
      const found: Record<string, unknown>[] = [];
      for await (const row of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } })) found.push(row);
      return found;
    },
    async close() {
      await host.close();
      await double.close();
    },
  });
}
