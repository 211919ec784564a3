/**
 * The tenant runtime's function table: the functions each tenant's own Functions app runs —
 * health, the intake of deliveries the shared ingress forwards (`POST /api/webhooks`), and the
 * message endpoints provider and consumer runs call with their OIDC tokens (messages/).
 */
import type { FunctionTable } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import { createHealthHandler } from '../platform/health.ts';
import { createTenantWebhookHandler } from './receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from './workflow-event-store.ts';
import { createMessageParts, type MessageDeps } from './messages/message-functions.ts';

export interface TenantDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly log: Logger;
  readonly version: string;
  /** The forward-signing secret(s), from the tenant's own vault. */
  readonly forwardSecrets?: () => Promise<ForwardSecrets | undefined>;
  /** Largest forwarded body accepted (GitHub's 25 MB plus the envelope by default). */
  readonly maxBodyBytes?: number;
  /** The message endpoints (`POST messages`, `GET messages/{id}`, `POST receipts`, purge timer) and their seams. */
  readonly messages?: Omit<MessageDeps, 'tenantId' | 'table' | 'log'>;
}

export function createTenantFunctions(deps: TenantDeps): FunctionTable {
  const [events, messages, deliveries] = tenantStorageLayout.tables;
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
            }),
          },
        ]
      : []),
    ...(deps.messages
      ? createMessageParts({ ...deps.messages, tenantId: deps.tenantId, table: deps.storage.table(messages), log: deps.log }).functions
      : []),
  ];
}
