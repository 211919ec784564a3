/**
 * The failures of the message endpoints a caller branches on, and their one mapping to HTTP
 * statuses (`messageErrorResponse`, used by every message handler at its edge). Bodies are short
 * and name no secret; anything else is a 500 with a generic body.
 */
import type { HttpResponseInit, InvocationContext } from '@azure/functions';

/** No token, a token that does not verify, is expired, names another audience, or was used before. */
export class RunTokenError extends Error {
  override name = 'RunTokenError';
}

/** A valid token, but its repository may not do this (not the tenant's, may not publish, not a recipient). */
export class NotAllowedError extends Error {
  override name = 'NotAllowedError';
}

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** Not JSON, nested too deep, or missing a field. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
}

export class MessageNotFoundError extends Error {
  override name = 'MessageNotFoundError';
}

/** The message existed and was purged after its TTL (or replaced by a newer post under its key). */
export class MessageGoneError extends Error {
  override name = 'MessageGoneError';
}

/** Stored ciphertext that does not open under its key and binding: refused, never answered. */
export class MessageIntegrityError extends Error {
  override name = 'MessageIntegrityError';
}

/** The tenant vault has no message key (yet), or not the one a message was sealed with. */
export class MessageKeyUnavailableError extends Error {
  override name = 'MessageKeyUnavailableError';
}

export function messageErrorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  const body = (status: number, error: string): HttpResponseInit => ({ status, headers: { 'cache-control': 'no-store' }, jsonBody: { error } });
  if (err instanceof RunTokenError) return body(401, err.message);
  if (err instanceof NotAllowedError) return body(403, err.message);
  if (err instanceof BodyTooLargeError) return body(413, err.message);
  if (err instanceof InvalidMessageError) return body(400, err.message);
  if (err instanceof MessageNotFoundError) return body(404, err.message);
  if (err instanceof MessageGoneError) return body(410, err.message);
  if (err instanceof MessageKeyUnavailableError) {
    context.error(`message key unavailable: ${err.message}`);
    return body(503, 'not ready');
  }
  if (err instanceof MessageIntegrityError) context.error(`stored message refused: ${err.message}`);
  else context.error(`message request failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return body(500, 'internal error');
}
