/**
 * The one place identity failures become statuses. Bodies name the reason, never a token; every
 * identity response is `Cache-Control: no-store`.
 */
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { InstallationClaimedError } from '../platform/installation-registry.ts';
import { InvalidTenantIdError } from '../../tenant-stack/tenant-id.ts';
import {
  AuthFlowError,
  BadRequestError,
  CallerNotAuthenticatedError,
  CsrfError,
  InstallationNotVisibleError,
  NoTenantError,
  NotSignedInError,
  TokenRequestRefusedError,
} from './identity-errors.ts';

export const noStore = { 'cache-control': 'no-store' } as const;

const statuses: [new (...args: never[]) => Error, number][] = [
  [AuthFlowError, 400],
  [BadRequestError, 400],
  [InvalidTenantIdError, 400],
  [NotSignedInError, 401],
  [CallerNotAuthenticatedError, 401],
  [CsrfError, 403],
  [InstallationNotVisibleError, 403],
  [TokenRequestRefusedError, 403],
  [InstallationClaimedError, 409],
  [NoTenantError, 409],
];

export function identityErrorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  for (const [type, status] of statuses) {
    if (err instanceof type) {
      const headers: Record<string, string> = { ...noStore };
      if (status === 401 && err instanceof CallerNotAuthenticatedError) headers['www-authenticate'] = 'Bearer';
      return { status, headers, jsonBody: { error: err.message } };
    }
  }
  context.error('identity request failed', err);
  return { status: 500, headers: { ...noStore }, jsonBody: { error: 'internal error' } };
}
