/**
 * Who is calling the broker: a tenant runtime proves itself with a bearer token of its own
 * identity, for the broker's audience. The scheme is one on both targets — verify the token
 * (signature, audience, expiry), take the identity it names, and find the tenant whose registered
 * identity that is; only the token verifier differs:
 * - Azure: the managed identity's Entra ID token (RS256, Entra's JWKS, `aud` = the broker's
 *   application id URI, `oid` = the tenant identity's principal id);
 * - local: the local identity's token, checked against the identity the resource manager created.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { CallerNotAuthenticatedError } from './identity-errors.ts';

/** Returns the identity (principal / client id) a valid token names, or undefined. */
export type VerifyCallerToken = (token: string) => Promise<string | undefined>;

export function createCallerAuthenticator(options: {
  verifyToken: VerifyCallerToken;
  /** The tenant whose compartment's identity this is (from the tenant registry's outputs). */
  tenantForIdentity: (identity: string) => Promise<string | undefined>;
}) {
  return async (authorization: string | null): Promise<string> => {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,4096})$/.exec(authorization ?? '');
    if (!match?.[1]) throw new CallerNotAuthenticatedError('a bearer token of the tenant identity is required');
    const identity = await options.verifyToken(match[1]);
    if (!identity) throw new CallerNotAuthenticatedError('the bearer token is not valid for the broker');
    const tenantId = await options.tenantForIdentity(identity);
    if (!tenantId) throw new CallerNotAuthenticatedError('the identity belongs to no tenant');
    return tenantId;
  };
}

/** Entra ID access tokens (v2) of managed identities, for the broker's audience. */
export function entraTokenVerifier(options: { entraTenantId: string; audience: string; authorityHost?: string }): VerifyCallerToken {
  const authority = options.authorityHost ?? 'https://login.microsoftonline.com';
  const jwks = createRemoteJWKSet(new URL(`${authority}/${options.entraTenantId}/discovery/v2.0/keys`));
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: `${authority}/${options.entraTenantId}/v2.0`,
        audience: options.audience,
        algorithms: ['RS256'],
      });
      return typeof payload.oid === 'string' ? payload.oid : undefined;
    } catch {
      return undefined;
    }
  };
}
