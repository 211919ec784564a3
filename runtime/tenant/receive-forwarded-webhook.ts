/**
 * `POST /api/webhooks` (one delivery) and `POST /api/webhooks/batch` (several) on a tenant's
 * runtime: deliveries forwarded by the shared ingress, signed per Standard Webhooks with this
 * tenant's own forward secret (verified by standard-webhooks.ts, which also refuses timestamps
 * more than 5 minutes off, so a captured request cannot be replayed later). A single forward's
 * `webhook-id` is the GitHub delivery id; a batch's is its own, and each delivery in it carries its
 * id. A repeat answers 200 and changes nothing. Workflow events are kept monotonically (see
 * workflow-event-store.ts).
 *
 * A completed run, or a run whose title carries a Zekt correlation id, is also handed to
 * orchestration (`onRun`, create-orchestration.ts `acceptRun`: its event, delivery records and
 * link are stored before it resolves; the first dispatches go on after the answer) — before the
 * dedupe row is written, so a crash before the answer leaves the ingress's retry to be processed
 * in full; orchestration is idempotent, a repeat costs reads and writes nothing.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import { verifyMessage, WebhookVerificationError } from '../ingress/standard-webhooks.ts';
import type { Logger } from '../core/logger.ts';
import type { ForwardedDelivery, ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import type { createWorkflowEventStore, WorkflowState } from './workflow-event-store.ts';
import { createCreateRounds } from '../storage/create-rounds.ts';
import { deliveryIdShape } from '../ingress/delivery-record.ts';
import { parseCorrelationId } from './dispatch/delivery-record.ts';
import { readBody } from '../functions/read-body.ts';
import { httpErrorResponse } from '../functions/http-errors.ts';
import { InvalidDeliveryError, NotReadyError, SignatureMismatchError } from '../ingress/ingress-errors.ts';

export interface TenantWebhookOptions {
  readonly tenantId: string;
  readonly secrets: () => Promise<ForwardSecrets | undefined>;
  readonly events: ReturnType<typeof createWorkflowEventStore>;
  /** Dedupe rows, one per webhook-id (the tenant's `deliveries` table). */
  readonly seen: TableClient;
  readonly maxBodyBytes: number;
  readonly log: Logger;
  /** Runs for every new delivery before it is answered (subscriptions: learn the installation, queue a sync). */
  readonly onDelivery?: (delivery: ForwardedDelivery) => Promise<void>;
  /** Orchestration's intake (create-orchestration.ts `acceptRun`); absent: runs are only kept. */
  readonly onRun?: (run: WorkflowState) => Promise<void>;
}

interface RunPayload {
  repository?: { id?: number; full_name?: string };
  workflow_run?: {
    id: number;
    run_attempt?: number;
    status: string;
    conclusion?: string | null;
    name?: string;
    head_branch?: string;
    head_sha?: string;
    updated_at: string;
    path?: string;
    display_title?: string;
    html_url?: string;
  };
  workflow_job?: { id: number; run_id: number; run_attempt?: number; status: string; conclusion?: string | null; name?: string; head_branch?: string; head_sha?: string; completed_at?: string | null; started_at?: string };
}

/** Deliveries one batch may carry, at most (the platform sends at most `deliveriesPerForward`). */
export const maxDeliveriesPerBatch = 100;

export function createTenantWebhookHandler(options: TenantWebhookOptions): HttpHandler {
  return createTenantWebhookHandlers(options).single;
}

/**
 * The tenant's two doors for forwarded deliveries, one intake behind them: `single` takes one
 * delivery per request (`webhook-id` is its id); `batch` (`POST /api/webhooks/batch`) takes
 * several in one signed request, which the platform sends when deliveries for this tenant wait
 * while its forwards are open (route-delivery.ts). Each delivery of a batch is accepted exactly as
 * a single one is, and answered in `results`, in order.
 */
export function createTenantWebhookHandlers(options: TenantWebhookOptions): { single: HttpHandler; batch: HttpHandler } {
  const seenRows = createCreateRounds(options.seen);
  /** The signed body of a forward, verified (headers first, then the body, read no further than the cap). */
  async function verified(request: HttpRequest): Promise<{ id: string; raw: Buffer }> {
    const headers = {
      'webhook-id': request.headers.get('webhook-id') ?? '',
      'webhook-timestamp': request.headers.get('webhook-timestamp') ?? '',
      'webhook-signature': request.headers.get('webhook-signature') ?? '',
    };
    if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
      throw new InvalidDeliveryError('missing webhook-id, webhook-timestamp or webhook-signature');
    }
    const raw = await readBody(request, options.maxBodyBytes);
    const secrets = await options.secrets();
    if (!secrets) throw new NotReadyError('not ready: no forward secret in the tenant vault');
    try {
      // During a rotation the platform signs with both secrets; either one verifies.
      verifyMessage([secrets.current, secrets.previous].filter((s): s is string => Boolean(s)), headers, raw);
    } catch (err) {
      const reason = err instanceof WebhookVerificationError ? err.message : 'invalid signature';
      options.log.warn({ webhookId: headers['webhook-id'], reason }, 'forward refused');
      throw new SignatureMismatchError(reason, { cause: err });
    }
    return { id: headers['webhook-id'], raw };
  }

  function parsed<T>(raw: Buffer): T {
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch (err) {
      throw new InvalidDeliveryError('the signed body is not JSON', { cause: err });
    }
  }

  const isDelivery = (d: unknown): d is ForwardedDelivery =>
    typeof d === 'object' && d !== null && typeof (d as ForwardedDelivery).id === 'string' && deliveryIdShape.test((d as ForwardedDelivery).id) && (d as ForwardedDelivery).tenantId === options.tenantId;

  /** One verified delivery of this tenant: processed once (a repeat answers 200 and changes nothing). */
  async function accept(delivery: ForwardedDelivery): Promise<HttpResponseInit> {
    const log = options.log.child({ deliveryId: delivery.id, tenantId: options.tenantId });
    const state = toWorkflowState(delivery);
    if (state?.kind === 'run' && options.onRun && (state.status === 'completed' || parseCorrelationId(state.displayTitle))) await options.onRun(state);

    // Dedupe on webhook-id: the first writer of the row processes the delivery. The rows of a
    // batch's deliveries asked for together go in one transaction (storage/create-rounds.ts).
    const claimed = await seenRows.createIfAbsent({ partitionKey: 'webhook', rowKey: delivery.id, event: delivery.event, receivedAt: new Date().toISOString() });
    if (!claimed) {
      log.info('repeated delivery; already processed');
      return { status: 200, jsonBody: { id: delivery.id, duplicate: true } };
    }
    try {
      await options.onDelivery?.(delivery);
      const outcome = state ? await options.events.record(state) : 'ignored';
      log.info({ event: delivery.event, action: delivery.action, outcome }, 'delivery accepted');
      return { status: 200, jsonBody: { id: delivery.id, outcome } };
    } catch (err) {
      // Let the platform retry: forget the dedupe row so the retry is processed.
      await options.seen.deleteEntity('webhook', delivery.id).catch(() => undefined);
      throw err;
    }
  }

  async function receiveOne(request: HttpRequest): Promise<HttpResponseInit> {
    const { id, raw } = await verified(request);
    const delivery = parsed<unknown>(raw);
    if (!isDelivery(delivery) || delivery.id !== id) throw new InvalidDeliveryError('delivery does not match its headers or this tenant');
    return accept(delivery);
  }

  async function receiveBatch(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const { raw } = await verified(request);
    const batch = parsed<{ tenantId?: unknown; deliveries?: unknown }>(raw);
    // The whole batch is checked before any of it is processed: a bad one changes nothing.
    if (typeof batch !== 'object' || batch === null || batch.tenantId !== options.tenantId || !Array.isArray(batch.deliveries)) {
      throw new InvalidDeliveryError('a batch names this tenant and carries a list of deliveries');
    }
    const deliveries: unknown[] = batch.deliveries;
    if (deliveries.length === 0 || deliveries.length > maxDeliveriesPerBatch) throw new InvalidDeliveryError(`a batch carries 1 to ${maxDeliveriesPerBatch} deliveries`);
    if (!deliveries.every(isDelivery)) throw new InvalidDeliveryError('every delivery of a batch has an id and names this tenant');
    if (new Set(deliveries.map((d) => d.id)).size !== deliveries.length) throw new InvalidDeliveryError('a batch carries each delivery once');
    const results = await Promise.all(
      deliveries.map(async (delivery) => {
        const answer = await accept(delivery).catch((err: unknown) => httpErrorResponse(err, context));
        const status = answer.status ?? 200;
        const body = (answer.jsonBody ?? {}) as Record<string, unknown>;
        const retryAfter = (answer.headers as Record<string, string> | undefined)?.['retry-after'];
        return { ...body, id: delivery.id, status, ...(retryAfter ? { retryAfter } : {}) };
      }),
    );
    return { status: 200, jsonBody: { results } };
  }

  const guarded =
    (receive: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>): HttpHandler =>
    async (request, context) => {
      try {
        return await receive(request, context);
      } catch (err) {
        return httpErrorResponse(err, context);
      }
    };
  return { single: guarded(receiveOne), batch: guarded(receiveBatch) };
}

function toWorkflowState(delivery: ForwardedDelivery): WorkflowState | undefined {
  const p = delivery.payload as RunPayload;
  const repositoryId = p.repository?.id;
  const repository = p.repository?.full_name;
  if (typeof repositoryId !== 'number' || !repository) return undefined;
  if (delivery.event === 'workflow_run' && p.workflow_run) {
    const r = p.workflow_run;
    return {
      kind: 'run',
      repositoryId,
      repository,
      runId: r.id,
      runAttempt: r.run_attempt ?? 1,
      status: r.status,
      ...(r.conclusion ? { conclusion: r.conclusion } : {}),
      ...(r.name ? { name: r.name } : {}),
      ...(r.head_branch ? { headBranch: r.head_branch } : {}),
      ...(r.head_sha ? { headSha: r.head_sha } : {}),
      updatedAt: r.updated_at,
      deliveryId: delivery.id,
      ...(r.path ? { path: r.path } : {}),
      ...(r.display_title ? { displayTitle: r.display_title } : {}),
      ...(r.html_url ? { url: r.html_url } : {}),
      ...(typeof delivery.installationId === 'number' ? { installationId: delivery.installationId } : {}),
    };
  }
  if (delivery.event === 'workflow_job' && p.workflow_job) {
    const j = p.workflow_job;
    return {
      kind: 'job',
      repositoryId,
      repository,
      runId: j.run_id,
      jobId: j.id,
      runAttempt: j.run_attempt ?? 1,
      status: j.status,
      ...(j.conclusion ? { conclusion: j.conclusion } : {}),
      ...(j.name ? { name: j.name } : {}),
      ...(j.head_branch ? { headBranch: j.head_branch } : {}),
      ...(j.head_sha ? { headSha: j.head_sha } : {}),
      updatedAt: j.completed_at ?? j.started_at ?? delivery.receivedAt,
      deliveryId: delivery.id,
    };
  }
  return undefined;
}
