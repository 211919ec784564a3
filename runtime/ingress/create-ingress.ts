/**
 * Wires the ingress's parts onto the platform's storage: the intake function, the router's queue
 * function, and the sweeper and redelivery timers — the four entries it adds to the platform's
 * function table — plus the operations other parts call (release parked deliveries on binding,
 * list and replay for the operator CLI).
 */
import type { Logger } from '../core/logger.ts';
import type { IngressConfig } from '../config.ts';
import type { SecretStore } from '../core/secret-store.ts';
import { platformSecretNames } from '../core/secret-store.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { FunctionDefinition } from '../functions/function-table.ts';
import { platformStorageLayout } from '../platform/platform-storage-layout.ts';
import { createInstallationRegistry } from '../platform/installation-registry.ts';
import type { AppRequest } from '../github/create-app-request.ts';
import { createDeliveryCommitter } from './persist-deliveries.ts';
import { createDeliveryStore } from './delivery-store.ts';
import { deliveryPartition } from './delivery-record.ts';
import { createGitHubWebhookHandler } from './receive-github-webhook.ts';
import { batchDeliveryUpdates } from './batch-delivery-updates.ts';
import { createRouter, type TenantWebhookLookup } from './route-delivery.ts';
import { releaseParkedDeliveries } from './release-parked-deliveries.ts';
import { sweepDeliveries } from './sweep-deliveries.ts';
import { redeliverFailedDeliveries } from './redeliver-failed-deliveries.ts';
import { replayDelivery } from './replay-delivery.ts';
import type { ForwardSecrets } from './forward-to-tenant.ts';

/**
 * How long the router's `delivered` marks gather into one round: well inside the claim (at least
 * 5 s), long enough that at 200 deliveries a second a round carries about twenty of them.
 */
const deliveredMarkGatherMs = 100;

export interface IngressDeps {
  readonly storage: Storage;
  readonly secrets: SecretStore;
  readonly tenantWebhookUrl: TenantWebhookLookup;
  /** The App-authenticated GitHub client, when the App is configured (the redelivery timer needs it). */
  readonly appRequest?: () => Promise<AppRequest | undefined>;
  readonly config: IngressConfig;
  /**
   * Where a tenant's forward-signing secret is read when the platform vault has none under
   * `tenant-<id>-forward-secret` (on Azure: the tenant's own vault, which grants the ingress
   * identity that one secret).
   */
  readonly forwardSecretFallback?: (tenantId: string) => Promise<string | undefined>;
  /**
   * The intake hands what it stores to the router of its own process (on by default); off, every
   * round is announced on the router's queue (an intake measured alone, tests that inspect the queue).
   */
  readonly routeInProcess?: boolean;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

export function createIngress(deps: IngressDeps) {
  const { tables, queues, containers } = platformStorageLayout;
  const deliveriesTable = deps.storage.table(tables.deliveries);
  const queue = deps.storage.queue(queues.ingressDeliveries);
  const payloads = deps.storage.container(containers.webhookPayloads);
  const deliveries = createDeliveryStore(deliveriesTable, payloads, deliveryPartition);
  const installations = createInstallationRegistry(deps.storage.table(tables.installations));
  const log = deps.log.child({ part: 'ingress' });

  /** A tenant's forward-signing secrets (the router signs with them; the tenant API proxy derives its credential from them). */
  const forwardSecrets = async (tenantId: string): Promise<ForwardSecrets | undefined> => {
    const [current, previous] = await Promise.all([
      deps.secrets.get(platformSecretNames.tenantForwardSecret(tenantId)),
      deps.secrets.get(platformSecretNames.tenantForwardSecretPrevious(tenantId)),
    ]);
    const secret = current ?? (await deps.forwardSecretFallback?.(tenantId));
    return secret ? { current: secret, ...(previous ? { previous } : {}) } : undefined;
  };
  const router = createRouter({
    // The router's claims and finishes are group-committed (batch-delivery-updates.ts); its
    // `delivered` marks, which nothing waits on, gather longer and leave the body as it is.
    deliveries: batchDeliveryUpdates(deliveries, deliveriesTable),
    deliveredMarks: batchDeliveryUpdates(deliveries, deliveriesTable, { gatherMs: deliveredMarkGatherMs, merge: true }),
    installations,
    tenantWebhookUrl: deps.tenantWebhookUrl,
    forwardSecrets,
    queue,
    retrySchedule: deps.config.forwardRetrySchedule,
    forwardTimeoutMs: deps.config.forwardTimeoutMs,
    log,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });

  // The intake hands each round it stores to the router of this process (no queue hop, no read back).
  const committer = createDeliveryCommitter({
    table: deliveriesTable,
    queue,
    payloads,
    inlineBodyBytes: deps.config.inlineBodyBytes,
    ...(deps.routeInProcess === false ? {} : { routeHere: router }),
    log,
  });

  const functions: FunctionDefinition[] = [
    {
      kind: 'http',
      name: 'githubWebhooks',
      route: 'github/webhooks',
      methods: ['POST'],
      // GitHub cannot send a function key; the HMAC signature is the authentication.
      authLevel: 'anonymous',
      maxBodyBytes: deps.config.maxBodyBytes,
      handler: createGitHubWebhookHandler({
        committer,
        webhookSecrets: async () => {
          const [current, previous] = await Promise.all([
            deps.secrets.get(platformSecretNames.webhookSecret),
            deps.secrets.get(platformSecretNames.webhookSecretPrevious),
          ]);
          return current ? { current, ...(previous ? { previous } : {}) } : undefined;
        },
        maxBodyBytes: deps.config.maxBodyBytes,
        log,
        ...(deps.now ? { now: deps.now } : {}),
      }),
    },
    { kind: 'queue', name: 'routeDeliveries', queueName: queues.ingressDeliveries, handler: (message) => router.handleAnnouncement(message) },
    {
      kind: 'timer',
      name: 'sweepDeliveries',
      schedule: '0 * * * * *',
      handler: async () => {
        await sweepDeliveries({ deliveries, queue, retentionDays: deps.config.deliveryRetentionDays, log, ...(deps.now ? { now: deps.now } : {}) });
      },
    },
    {
      kind: 'timer',
      name: 'redeliverFailedDeliveries',
      schedule: '30 */5 * * * *',
      handler: async () => {
        const request = await deps.appRequest?.();
        if (!request) return log.debug('GitHub App not configured; redelivery check skipped');
        await redeliverFailedDeliveries({ request, deliveries, stateTable: deliveriesTable, maxPerRun: deps.config.redeliveryMaxPerRun, log, ...(deps.now ? { now: deps.now } : {}) });
      },
    },
  ];

  return {
    functions,
    deliveries,
    installations,
    router,
    forwardSecrets,
    releaseParked: (installationId: number) => releaseParkedDeliveries(deliveries, queue, installationId, deps.now?.()),
    replay: (deliveryId: string) => replayDelivery(deliveries, queue, deliveryId, deps.now?.()),
    sweep: (stalledAfterMs?: number) =>
      sweepDeliveries({
        deliveries,
        queue,
        retentionDays: deps.config.deliveryRetentionDays,
        log,
        ...(stalledAfterMs !== undefined ? { stalledAfterMs } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      }),
    redeliver: async () => {
      const request = await deps.appRequest?.();
      if (!request) throw new Error('the GitHub App is not configured');
      return redeliverFailedDeliveries({ request, deliveries, stateTable: deliveriesTable, maxPerRun: deps.config.redeliveryMaxPerRun, log, ...(deps.now ? { now: deps.now } : {}) });
    },
  };
}

export type Ingress = ReturnType<typeof createIngress>;
