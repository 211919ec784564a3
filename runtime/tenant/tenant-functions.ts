/**
 * The tenant runtime's function table: the functions each tenant's own Functions app runs —
 * health, the intake of deliveries the shared ingress forwards (`POST /api/webhooks`), and
 * subscriptions as code (`GET /api/subscriptions`, `POST /api/subscriptions/sync`, their sync queue
 * and timer; see subscriptions/create-subscriptions.ts).
 */
import type { FunctionTable } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import { createHealthHandler } from '../platform/health.ts';
import { createTenantWebhookHandler } from './receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from './workflow-event-store.ts';
import type { TokenRequest } from '../identity/token-broker.ts';
import type { InstallationToken } from './broker-client.ts';
import { createSubscriptions } from './subscriptions/create-subscriptions.ts';

export interface TenantDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly log: Logger;
  readonly version: string;
  /** The forward-signing secret(s), from the tenant's own vault. */
  readonly forwardSecrets?: () => Promise<ForwardSecrets | undefined>;
  /** Largest forwarded body accepted (GitHub's 25 MB plus the envelope by default). */
  readonly maxBodyBytes?: number;
  /** The platform's token broker; with it (and the forward secrets) the subscriptions functions run. */
  readonly broker?: { installationToken(request: TokenRequest): Promise<InstallationToken> };
  /** GitHub's REST API base URL (`https://api.github.com`). */
  readonly githubApiUrl?: string;
  readonly fetch?: typeof fetch;
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
            handler: createTenantWebhookHandler({
              tenantId: deps.tenantId,
              secrets: deps.forwardSecrets,
              events: createWorkflowEventStore(deps.storage.table(events)),
              seen: deps.storage.table(deliveries),
              maxBodyBytes: deps.maxBodyBytes ?? 26 * 1024 * 1024,
              log: deps.log,
              ...(subscriptions ? { onDelivery: subscriptions.onDelivery } : {}),
            }),
          },
        ]
      : []),
    ...(subscriptions?.functions ?? []),
  ];
}
