/**
 * The check, and nothing else: raw body + `X-Hub-Signature-256` + secrets → which secret matched.
 * Knows no HTTP. Uses `@octokit/webhooks-methods` (the verifier `@octokit/webhooks` itself uses),
 * which compares HMAC-SHA256 digests with `crypto.timingSafeEqual`. The current secret is tried
 * first, then the previous one, so a secret can be rotated without dropping deliveries.
 * https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
 */
import { verify } from '@octokit/webhooks-methods';

/** `sha256=` followed by 64 hex digits — anything else cannot match and is refused before any HMAC. */
const signatureShape = /^sha256=[0-9a-f]{64}$/;

export interface WebhookSecrets {
  readonly current: string;
  /** Still accepted while a rotation is under way. */
  readonly previous?: string;
}

export type SignatureMatch = 'current' | 'previous' | false;

export async function verifyGitHubSignature(
  rawBody: string,
  signature: string,
  secrets: WebhookSecrets,
): Promise<SignatureMatch> {
  if (!signatureShape.test(signature) || rawBody.length === 0) return false;
  if (await verify(secrets.current, rawBody, signature)) return 'current';
  if (secrets.previous && (await verify(secrets.previous, rawBody, signature))) return 'previous';
  return false;
}
