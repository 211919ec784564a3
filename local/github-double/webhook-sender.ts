/**
 * Delivers App webhooks the way GitHub does
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers): a JSON POST
 * to the App's webhook URL with `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID), `X-GitHub-Hook-ID`,
 * `X-GitHub-Hook-Installation-Target-ID` (the App id), `X-GitHub-Hook-Installation-Target-Type:
 * integration`, a `GitHub-Hookshot` user agent, and `X-Hub-Signature-256` (HMAC-SHA256 of the raw
 * body with the webhook secret; the legacy SHA-1 `X-Hub-Signature` too, as GitHub still sends it).
 *
 * Every attempt is kept as a delivery (what the deliveries API lists). GitHub waits 10 s for a
 * response and never retries by itself; a redelivery, asked for through the API, sends the same
 * payload under the same GUID as a new delivery with `redelivery: true`.
 * Every payload is first checked against GitHub's webhook schemas; one that breaks them is not sent.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { fetchPost, undiciPost } from '../../runtime/core/http-post.ts';
import type { JsonObject } from './json.ts';
import type { App } from './state.ts';
import type { WebhookValidator } from './webhook-validator.ts';

/** GitHub gives up on a delivery whose response takes longer than 10 seconds. */
export const webhookTimeoutMs = 10_000;

export interface WebhookDelivery {
  readonly id: number;
  /** The App whose webhook this delivery belongs to. */
  readonly appId: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string | null;
  readonly installationId: number | null;
  readonly repositoryId: number | null;
  readonly deliveredAt: string;
  readonly redelivery: boolean;
  /** Seconds the attempt took. */
  readonly duration: number;
  /** `OK` for a 2xx answer, else what went wrong (`Invalid HTTP Response: 500`, `timed out`, …). */
  readonly status: string;
  readonly statusCode: number;
  readonly url: string;
  readonly request: { readonly headers: Readonly<Record<string, string>>; readonly payload: JsonObject; readonly body: string };
  readonly response: { readonly headers: Readonly<Record<string, string>> | null; readonly payload: string | null };
}

export interface SendWebhookInput {
  readonly event: string;
  readonly payload: JsonObject;
  /** The App whose webhook fires; the double's main App by default. */
  readonly app?: App;
}

/** Thrown when a payload breaks GitHub's webhook schema: the double never sends such a payload. */
export class WebhookSchemaError extends Error {
  override name = 'WebhookSchemaError';
  constructor(
    readonly webhook: string,
    readonly problems: readonly string[],
  ) {
    super(`payload breaks GitHub's "${webhook}" webhook schema:\n  - ${problems.slice(0, 20).join('\n  - ')}`);
  }
}

/** Thrown when an App has no webhook URL to deliver to. */
export class WebhookNotConfiguredError extends Error {
  override name = 'WebhookNotConfiguredError';
  constructor(readonly appId: number) {
    super(`App ${appId} has no webhook URL; pass webhookUrl or call setWebhookUrl()`);
  }
}

export interface WebhookSender {
  readonly deliveries: readonly WebhookDelivery[];
  send(input: SendWebhookInput & { app: App }): Promise<WebhookDelivery>;
  /** Starts a redelivery of `delivery` in the background (GitHub answers 202 before delivering). */
  redeliver(delivery: WebhookDelivery, app: App): void;
  /** Resolves when every background redelivery has finished. */
  settled(): Promise<void>;
}

export function createWebhookSender(options: {
  validator: WebhookValidator;
  now: () => number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  onSchemaError: (webhook: string, problems: readonly string[]) => void;
}): WebhookSender {
  // GitHub's own sender is not Node: what matters here is that the double costs the platform's
  // process (whose CPU the benchmarks measure) as little as it can (runtime/core/http-post.ts).
  const post = options.fetch ? fetchPost(options.fetch) : undiciPost;
  const timeoutMs = options.timeoutMs ?? webhookTimeoutMs;
  const deliveries: WebhookDelivery[] = [];
  const pending = new Set<Promise<unknown>>();
  // GitHub's delivery ids are large 64-bit integers.
  let nextId = 10_000_000_001;
  const hookshotVersion = randomBytes(4).toString('hex').slice(0, 7);

  async function attempt(input: { app: App; event: string; payload: JsonObject; body: string; guid: string; redelivery: boolean }) {
    const { app, event, payload, body, guid, redelivery } = input;
    const url = app.webhookUrl;
    if (!url) throw new WebhookNotConfiguredError(app.id);
    const headers: Record<string, string> = {
      accept: '*/*',
      'content-type': 'application/json',
      'user-agent': `GitHub-Hookshot/${hookshotVersion}`,
      'x-github-delivery': guid,
      'x-github-event': event,
      'x-github-hook-id': String(app.hookId),
      'x-github-hook-installation-target-id': String(app.id),
      'x-github-hook-installation-target-type': 'integration',
      'x-hub-signature': `sha1=${createHmac('sha1', app.webhookSecret).update(body).digest('hex')}`,
      'x-hub-signature-256': await sign(app.webhookSecret, body),
    };
    const started = options.now();
    const startedClock = performance.now();
    let status: string;
    let statusCode: number;
    let response: WebhookDelivery['response'] = { headers: null, payload: null };
    try {
      const res = await post(url, { headers, body, timeoutMs });
      const text = await res.text();
      statusCode = res.status;
      status = res.status >= 200 && res.status < 300 ? 'OK' : `Invalid HTTP Response: ${res.status}`;
      response = { headers: res.headerRecord(), payload: text };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      status = timedOut ? 'timed out' : 'failed to connect';
      statusCode = timedOut ? 504 : 502;
    }
    const installation = payload.installation;
    const repository = payload.repository;
    const delivery: WebhookDelivery = {
      id: nextId++,
      appId: app.id,
      guid,
      event,
      action: typeof payload.action === 'string' ? payload.action : null,
      installationId: typeof installation === 'object' && installation && !Array.isArray(installation) && typeof installation.id === 'number' ? installation.id : null,
      repositoryId: typeof repository === 'object' && repository && !Array.isArray(repository) && typeof repository.id === 'number' ? repository.id : null,
      deliveredAt: new Date(started).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      redelivery,
      duration: Math.round(performance.now() - startedClock) / 1000,
      status,
      statusCode,
      url,
      request: { headers, payload, body },
      response,
    };
    deliveries.push(delivery);
    return delivery;
  }

  return {
    deliveries,

    async send({ app, event, payload }) {
      const check = await options.validator.check(event, payload);
      if (check.problems.length > 0) {
        options.onSchemaError(check.webhook, check.problems);
        throw new WebhookSchemaError(check.webhook, check.problems);
      }
      return attempt({ app, event, payload, body: JSON.stringify(payload), guid: randomUUID(), redelivery: false });
    },

    redeliver(delivery, app) {
      const run = attempt({
        app,
        event: delivery.event,
        payload: delivery.request.payload,
        body: delivery.request.body,
        guid: delivery.guid,
        redelivery: true,
      }).catch(() => undefined);
      pending.add(run);
      void run.finally(() => pending.delete(run));
    },

    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
