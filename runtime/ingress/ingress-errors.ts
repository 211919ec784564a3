/**
 * Failures the ingress's callers branch on. Only the HTTP adapter maps them to a status.
 */

/** A request GitHub would never send: a header missing or malformed. → 400 */
export class InvalidDeliveryError extends Error {
  override name = 'InvalidDeliveryError';
}

/** The body is larger than the configured cap. → 413 (shared with every body reader) */
export { PayloadTooLargeError } from '../functions/read-body.ts';

/** Not `application/json`. → 415 */
export class UnsupportedContentTypeError extends Error {
  override name = 'UnsupportedContentTypeError';
}

/** `X-Hub-Signature-256` matches neither the current nor the previous webhook secret. → 401 */
export class SignatureMismatchError extends Error {
  override name = 'SignatureMismatchError';
}

/** The body was signed correctly but is not JSON. → 400 */
export class MalformedPayloadError extends Error {
  override name = 'MalformedPayloadError';
}

/** No secret to check against: a deployment fault, never the sender's. → 500 */
export class WebhookSecretMissingError extends Error {
  override name = 'WebhookSecretMissingError';
}

/** A tenant runtime without its forward secret yet (still being provisioned). → 503 */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
}
