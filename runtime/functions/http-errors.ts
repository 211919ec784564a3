/**
 * The one mapping of Zekt's error classes to HTTP statuses, used by every HTTP edge (webhook
 * intake, identity, tenant intake). A class a caller can act on gets its 4xx and its message; any
 * other error is a 500 with a generic body, logged in full on the invocation context. Adding a
 * class here is the only step to give a new failure its status.
 */
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { TenantStateError } from '../../automation/enqueue-provisioning.ts';
import { InvalidTenantIdError } from '../../tenant-stack/tenant-id.ts';
import {
  AuthFlowError,
  BadRequestError,
  CallerNotAuthenticatedError,
  CsrfError,
  InstallationNotVisibleError,
  NoTenantError,
  NotSignedInError,
  RateLimitedError,
  TenantIdTakenError,
  TokenRequestRefusedError,
} from '../identity/identity-errors.ts';
import {
  InvalidDeliveryError,
  MalformedPayloadError,
  NotReadyError,
  SignatureMismatchError,
  UnsupportedContentTypeError,
} from '../ingress/ingress-errors.ts';
import { InstallationClaimedError } from '../platform/installation-registry.ts';
import { PayloadTooLargeError } from './read-body.ts';

type ErrorClass = new (...args: never[]) => Error;

const statuses: readonly (readonly [ErrorClass, number])[] = [
  [AuthFlowError, 400],
  [BadRequestError, 400],
  [InvalidTenantIdError, 400],
  [InvalidDeliveryError, 400],
  [MalformedPayloadError, 400],
  [NotSignedInError, 401],
  [CallerNotAuthenticatedError, 401],
  [SignatureMismatchError, 401],
  [CsrfError, 403],
  [InstallationNotVisibleError, 403],
  [TokenRequestRefusedError, 403],
  [InstallationClaimedError, 409],
  [NoTenantError, 409],
  [TenantIdTakenError, 409],
  [TenantStateError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedContentTypeError, 415],
  [RateLimitedError, 429],
  [NotReadyError, 503],
];

/** The status Zekt gives `err`, or undefined for an unexpected error (a 500). */
export function statusOfError(err: unknown): number | undefined {
  return statuses.find(([type]) => err instanceof type)?.[1];
}

/**
 * The response for a failed request: the mapped status with `{ error: message }`, or a logged
 * 500. `headers` go on every answer (identity's `Cache-Control: no-store`).
 */
export function httpErrorResponse(err: unknown, context: InvocationContext, headers: Readonly<Record<string, string>> = {}): HttpResponseInit {
  const status = statusOfError(err);
  if (status === undefined) {
    context.error('request failed', err);
    return { status: 500, headers: { ...headers }, jsonBody: { error: 'internal error' } };
  }
  const out: Record<string, string> = { ...headers };
  if (err instanceof CallerNotAuthenticatedError) out['www-authenticate'] = 'Bearer';
  if (err instanceof RateLimitedError) out['retry-after'] = String(err.retryAfterSeconds);
  return { status, headers: out, jsonBody: { error: (err as Error).message } };
}
