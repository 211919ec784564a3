/**
 * `POST /api/github/webhooks` — the thin HTTP adapter: reads headers and the raw body (capped),
 * checks the signature before anything parses the body, persists, then answers. Failures become
 * statuses through the one mapping (functions/http-errors.ts); the check and the store know no HTTP.
 * GitHub expects a 2xx within 10 s (https://docs.github.com/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-10-seconds),
 * so nothing here waits on a tenant: routing happens later, from the queue.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Logger } from '../core/logger.ts';
import {
  InvalidDeliveryError,
  MalformedPayloadError,
  SignatureMismatchError,
  UnsupportedContentTypeError,
  WebhookSecretMissingError,
} from './ingress-errors.ts';
import { checkDeclaredLength, readBody } from '../functions/read-body.ts';
import { httpErrorResponse, statusOfError } from '../functions/http-errors.ts';
import { verifyGitHubSignature, type WebhookSecrets } from './verify-github-signature.ts';
import { deliveryIdShape, deliveryPartition, forwardedEvents, registryEvents, type DeliveryRecord } from './delivery-record.ts';
import type { DeliveryCommitter } from './persist-deliveries.ts';
import { pushTouchesZektFile } from './push-touches-zekt-file.ts';

export interface GitHubWebhookHandlerOptions {
  readonly committer: DeliveryCommitter;
  /** Current and previous secret, from the platform vault. */
  readonly webhookSecrets: () => Promise<WebhookSecrets | undefined>;
  readonly maxBodyBytes: number;
  readonly log: Logger;
  readonly now?: () => Date;
}

const eventShape = /^[a-z_]{1,64}$/;

export function createGitHubWebhookHandler(options: GitHubWebhookHandlerOptions): HttpHandler {
  const now = options.now ?? (() => new Date());

  async function receive(request: HttpRequest): Promise<HttpResponseInit> {
    checkDeclaredLength(request.headers.get('content-length'), options.maxBodyBytes);

    const event = request.headers.get('x-github-event');
    const deliveryId = request.headers.get('x-github-delivery');
    const signature = request.headers.get('x-hub-signature-256');
    if (!event || !deliveryId || !signature) {
      const missing = [!event && 'X-GitHub-Event', !deliveryId && 'X-GitHub-Delivery', !signature && 'X-Hub-Signature-256'].filter(Boolean);
      throw new InvalidDeliveryError(`missing header(s): ${missing.join(', ')}`);
    }
    if (!deliveryIdShape.test(deliveryId)) throw new InvalidDeliveryError('X-GitHub-Delivery is not a delivery id');
    if (!eventShape.test(event)) throw new InvalidDeliveryError('X-GitHub-Event is not an event name');
    const contentType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') throw new UnsupportedContentTypeError('content type must be application/json');

    // A chunked body (no Content-Length) is cut off at the cap while it streams.
    const raw = await readBody(request, options.maxBodyBytes);

    const secrets = await options.webhookSecrets();
    if (!secrets) throw new WebhookSecretMissingError('no GitHub webhook secret is configured in the platform vault');
    const rawText = raw.toString('utf8');
    const match = await verifyGitHubSignature(rawText, signature, secrets);
    if (!match) throw new SignatureMismatchError('X-Hub-Signature-256 does not match');

    let payload: { action?: unknown; installation?: { id?: unknown } };
    try {
      const parsed: unknown = JSON.parse(rawText);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      payload = parsed as typeof payload;
    } catch (err) {
      throw new MalformedPayloadError('body is not a JSON object', { cause: err });
    }
    if (event === 'ping') {
      options.log.info({ deliveryId, event }, 'ping received');
      return { status: 200, jsonBody: { ok: true } };
    }

    const installationId = typeof payload.installation?.id === 'number' ? payload.installation.id : undefined;
    const action = typeof payload.action === 'string' ? payload.action : undefined;
    const receivedAt = now().toISOString();
    // A push is kept only when it touches the subscriptions file on the default branch.
    const used = event === 'push' ? pushTouchesZektFile(payload) : forwardedEvents.has(event) || registryEvents.has(event);
    const record: DeliveryRecord = {
      deliveryId,
      partition: deliveryPartition(deliveryId),
      event,
      ...(action ? { action } : {}),
      ...(installationId !== undefined ? { installationId } : {}),
      signature: match === 'current' ? 'sha256' : 'sha256-previous',
      receivedAt,
      status: used ? 'received' : 'ignored',
      attempts: 0,
      updatedAt: receivedAt,
      bodyBytes: raw.length,
    };
    const outcome = await options.committer.persist(record, raw);
    if (outcome === 'duplicate') {
      options.log.info({ deliveryId, event }, 'duplicate delivery; already stored');
      return { status: 200, jsonBody: { id: deliveryId, duplicate: true } };
    }
    // Bindings per call, not a child logger per request: the hot path builds no logger.
    options.log.info({ deliveryId, event, installationId, status: record.status }, 'delivery stored');
    return { status: 202, jsonBody: { id: deliveryId, status: record.status } };
  }

  return async (request, context) => {
    try {
      return await receive(request);
    } catch (err) {
      const status = statusOfError(err);
      if (status !== undefined) {
        options.log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, status }, 'webhook refused');
      }
      return httpErrorResponse(err, context);
    }
  };
}
