/**
 * Receives GitHub's webhooks on a laptop through a webhook proxy channel (smee.io, Probot's
 * convention): `smee-client` holds an event stream open to the channel and re-posts each delivery,
 * headers and body, to the local platform's webhook route, where the signature is checked as for
 * any delivery. smee re-serialises the JSON body it relays; GitHub's bodies are compact JSON, so
 * the bytes (and the signature over them) come out the same.
 */
import { SmeeClient } from 'smee-client';
import type { Logger } from '../runtime/core/logger.ts';

export interface WebhookProxyOptions {
  /** The channel GitHub delivers to (`WEBHOOK_PROXY_URL`). */
  readonly source: string;
  /** Where each delivery is re-posted: the local platform's `/api/github/webhooks`. */
  readonly target: string;
  /** How long the first connection may take before start-up fails, in ms. */
  readonly connectTimeoutMs?: number;
  readonly log: Logger;
}

/** The channel could not be reached at start-up. */
export class WebhookProxyUnavailableError extends Error {
  override name = 'WebhookProxyUnavailableError';
}

export interface WebhookProxy {
  stop(): Promise<void>;
}

export async function startWebhookProxy(options: WebhookProxyOptions): Promise<WebhookProxy> {
  const log = options.log.child({ component: 'webhook-proxy' });
  const client = new SmeeClient({
    source: options.source,
    target: options.target,
    maxConnectionTimeout: options.connectTimeoutMs ?? 15_000,
    // smee-client logs a line per forward (`POST <target> - <status>`) and its connection state.
    logger: {
      info: (...args: unknown[]) => log.info(args.map(String).join(' ')),
      error: (...args: unknown[]) => log.warn(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')),
    },
  });
  try {
    await client.start();
  } catch (err) {
    // The event stream would keep reconnecting in the background: close it before giving up.
    await client.stop();
    throw new WebhookProxyUnavailableError(`WEBHOOK_PROXY_URL: the channel did not answer (${options.source})`, { cause: err });
  }
  return { stop: () => client.stop() };
}
