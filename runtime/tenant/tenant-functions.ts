/**
 * The tenant runtime's function table: the functions each tenant's own Functions app runs —
 * health, the intake of deliveries the shared ingress forwards (`POST /api/webhooks`, and
 * `/api/webhooks/batch` for several at once), and
 * subscriptions as code (`GET /api/subscriptions`, `POST /api/subscriptions/sync`, their sync queue
 * and timer; see subscriptions/create-subscriptions.ts), and orchestration (events, deliveries, the
 * dispatcher and the tenant API: dispatch/create-orchestration.ts), and the message endpoints
 * provider and consumer runs call with their OIDC tokens (messages/). The three meet here: events
 * reference the run's messages, a message is fetched only by a repository it was delivered to, a
 * receipt links the consumer run to its delivery, and a message stored after its event was dispatched
 * reaches the consumers in a follow-up (dispatch/follow-up-delivery.ts).
 */
import type { FunctionTable } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import { createHealthHandler } from '../platform/health.ts';
import { createTenantWebhookHandlers } from './receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from './workflow-event-store.ts';
import { createSubscriptions } from './subscriptions/create-subscriptions.ts';
import { createOrchestration, type DispatchConfig, type Orchestration } from './dispatch/create-orchestration.ts';
import type { TokenSource } from './dispatch/dispatch-tokens.ts';
import { createMessageParts, type MessageDeps } from './messages/message-functions.ts';
import { publishPermission } from './messages/publish-permission.ts';
import type { LinkDelivery } from './messages/post-receipt.ts';
import { DeliveryConsumerMismatchError, DeliveryNotFoundError } from './dispatch/link-consumer-run.ts';
import { createSubscriptionIndex } from './subscriptions/subscription-index.ts';
import { createSubscriptionSyncState } from './subscriptions/subscription-sync-state.ts';

export interface TenantDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly log: Logger;
  readonly version: string;
  /** The forward-signing secret(s), from the tenant's own vault. */
  readonly forwardSecrets?: () => Promise<ForwardSecrets | undefined>;
  /** Largest forwarded body accepted (GitHub's 25 MB plus the envelope by default). */
  readonly maxBodyBytes?: number;
  /** The platform's token broker client (broker-client.ts); subscriptions and dispatch need it. */
  readonly broker?: TokenSource;
  /** GitHub's REST API base URL (`https://api.github.com`). */
  readonly githubApiUrl?: string;
  readonly fetch?: typeof fetch;
  /** The dispatch settings; with the forward secrets, orchestration runs. */
  readonly dispatch?: DispatchConfig;
  /** Orchestration built by the caller (tests, the benchmark); built from the above otherwise. */
  readonly orchestration?: Orchestration;
  /**
   * The message endpoints' settings and key; with them the message functions run. Whether a
   * repository is the tenant's, may publish, was delivered a message, and the receipt's link come
   * from subscriptions and orchestration unless a test gives its own.
   */
  readonly messages?: Omit<MessageDeps, 'tenantId' | 'table' | 'log' | 'isTenantRepository' | 'mayPublish' | 'wasDelivered' | 'linkDelivery'> &
    Partial<Pick<MessageDeps, 'isTenantRepository' | 'mayPublish' | 'wasDelivered' | 'linkDelivery'>>;
}

export function createTenantFunctions(deps: TenantDeps): FunctionTable {
  const [events, messagesTable, deliveries, subscriptionsTable] = tenantStorageLayout.tables;
  // Messages and orchestration need each other: events carry the run's message references, and a
  // message is fetched only by a repository its event was delivered to. Each side reads the other late.
  let messageParts: ReturnType<typeof createMessageParts> | undefined;
  const subscriptions =
    deps.forwardSecrets && deps.broker
      ? createSubscriptions({
          tenantId: deps.tenantId,
          storage: deps.storage,
          secrets: deps.forwardSecrets,
          broker: deps.broker,
          githubApiUrl: deps.githubApiUrl ?? 'https://api.github.com',
          log: deps.log,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        })
      : undefined;
  const orchestration =
    deps.orchestration ??
    (deps.forwardSecrets && deps.dispatch
      ? createOrchestration({
          tenantId: deps.tenantId,
          storage: deps.storage,
          secrets: deps.forwardSecrets,
          config: deps.dispatch,
          log: deps.log,
          ...(deps.broker ? { broker: deps.broker } : {}),
          ...(deps.messages ? { messagesOfRun: (run) => messageParts?.store.referencesOfRun(run) ?? Promise.resolve([]) } : {}),
        })
      : undefined);
  if (deps.messages) {
    const index = subscriptions?.index ?? createSubscriptionIndex(deps.storage.table(subscriptionsTable));
    const syncState = subscriptions?.state ?? createSubscriptionSyncState(deps.storage.table(subscriptionsTable));
    const linkDelivery: LinkDelivery = async (receipt) => {
      if (!orchestration) return 'no-delivery';
      try {
        // A delivery's id is `<event id>.<consumer repository id>` (dispatch/delivery-record.ts).
        await orchestration.linkDelivery({
          deliveryId: `${receipt.eventId}.${receipt.consumerRepositoryId}`,
          consumerRepositoryId: receipt.consumerRepositoryId,
          consumerRunId: receipt.runId,
          attempt: receipt.runAttempt,
          via: 'receipt',
        });
        return 'linked';
      } catch (err) {
        if (err instanceof DeliveryNotFoundError || err instanceof DeliveryConsumerMismatchError) return 'no-delivery';
        throw err;
      }
    };
    messageParts = createMessageParts({
      // A repository is the tenant's when subscription sync has seen it in one of its installations.
      isTenantRepository: async (id) => (await syncState.files()).some((f) => f.repository.id === id),
      mayPublish: publishPermission(index),
      wasDelivered: (messageId, repositoryId) => orchestration?.wasMessageDeliveredTo(messageId, repositoryId) ?? Promise.resolve(false),
      linkDelivery,
      // A message stored after its event was dispatched reaches those consumers in a follow-up.
      ...(orchestration ? { onPosted: orchestration.onMessagePosted } : {}),
      ...deps.messages,
      tenantId: deps.tenantId,
      table: deps.storage.table(messagesTable),
      log: deps.log,
    });
  }
  /** The intake of forwarded deliveries: one door per delivery, one per batch (receive-forwarded-webhook.ts). */
  const forwardIntake = (secrets: NonNullable<TenantDeps['forwardSecrets']>): FunctionTable => {
    const maxBodyBytes = deps.maxBodyBytes ?? 26 * 1024 * 1024;
    const intake = createTenantWebhookHandlers({
      tenantId: deps.tenantId,
      secrets,
      events: createWorkflowEventStore(deps.storage.table(events)),
      seen: deps.storage.table(deliveries),
      maxBodyBytes,
      log: deps.log,
      ...(subscriptions ? { onDelivery: subscriptions.onDelivery } : {}),
      ...(orchestration ? { onRun: orchestration.acceptRun } : {}),
    });
    // The Standard Webhooks signature is the authentication: the ingress holds no function key.
    return [
      { kind: 'http', name: 'webhooks', route: 'webhooks', methods: ['POST'], authLevel: 'anonymous', maxBodyBytes, handler: intake.single },
      { kind: 'http', name: 'webhookBatches', route: 'webhooks/batch', methods: ['POST'], authLevel: 'anonymous', maxBodyBytes, handler: intake.batch },
    ];
  };
  return [
    {
      kind: 'http',
      name: 'tenantHealth',
      route: 'health',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: createHealthHandler(deps),
    },
    ...(deps.forwardSecrets ? forwardIntake(deps.forwardSecrets) : []),
    ...(subscriptions?.functions ?? []),
    ...(orchestration?.functions ?? []),
    ...(messageParts?.functions ?? []),
  ];
}
