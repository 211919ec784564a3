/**
 * The tenant runtime's function table: the functions each tenant's own Functions app runs —
 * health, the intake of deliveries the shared ingress forwards (`POST /api/webhooks`), and
 * subscriptions as code (`GET /api/subscriptions`, `POST /api/subscriptions/sync`, their sync queue
 * and timer; see subscriptions/create-subscriptions.ts), and orchestration (events, deliveries, the
 * dispatcher and the tenant API: dispatch/create-orchestration.ts).
 */
import type { FunctionTable } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import { createHealthHandler } from '../platform/health.ts';
import { createTenantWebhookHandler } from './receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from './workflow-event-store.ts';
import { createSubscriptions } from './subscriptions/create-subscriptions.ts';
import { createOrchestration, type DispatchConfig, type Orchestration } from './dispatch/create-orchestration.ts';
import type { TokenSource } from './dispatch/dispatch-tokens.ts';

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
}

export function createTenantFunctions(deps: TenantDeps): FunctionTable {
  const [events, , deliveries] = tenantStorageLayout.tables;
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
        })
      : undefined);
  return [
    {
      kind: 'http',
      name: 'tenantHealth',
      route: 'health',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: createHealthHandler(deps),
    },
    ...(deps.forwardSecrets
      ? [
          {
            kind: 'http' as const,
            name: 'webhooks',
            route: 'webhooks',
            methods: ['POST' as const],
            // The Standard Webhooks signature is the authentication: the ingress holds no function key.
            authLevel: 'anonymous' as const,
            maxBodyBytes: deps.maxBodyBytes ?? 26 * 1024 * 1024,
            handler: createTenantWebhookHandler({
              tenantId: deps.tenantId,
              secrets: deps.forwardSecrets,
              events: createWorkflowEventStore(deps.storage.table(events)),
              seen: deps.storage.table(deliveries),
              maxBodyBytes: deps.maxBodyBytes ?? 26 * 1024 * 1024,
              log: deps.log,
              ...(subscriptions ? { onDelivery: subscriptions.onDelivery } : {}),
              ...(orchestration ? { onRun: orchestration.enqueueRun } : {}),
            }),
          },
        ]
      : []),
    ...(subscriptions?.functions ?? []),
    ...(orchestration?.functions ?? []),
  ];
}
