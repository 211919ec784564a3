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

/**
 * Entra ID access tokens of managed identities, for the broker's application. A directory issues
 * v1 or v2 tokens (the application's `requestedAccessTokenVersion`; managed identities get v1
 * unless it says 2), and they differ:
 * - v1: `iss` = `https://sts.windows.net/<tenant>/`, `aud` = the application id URI that was
 *   asked for, the caller's client id in `appid`;
 * - v2: `iss` = `<authority>/<tenant>/v2.0`, `aud` = the application's client id, the caller's
 *   client id in `azp`.
 * Both carry the caller's object id in `oid`, signed by the same keys.
 * https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * The identity returned is `oid` (the principal id), else the caller's client id.
 */
export function entraTokenVerifier(options: {
  entraTenantId: string;
  /** The application id URI (`api://…`): what callers ask for, `aud` of v1 tokens. */
  audience: string;
  /** The application's client id: `aud` of v2 tokens. */
  clientId?: string;
  authorityHost?: string;
  /** The v1 issuer's host (`https://sts.windows.net`); tests point both at a local server. */
  v1IssuerHost?: string;
}): VerifyCallerToken {
  const authority = options.authorityHost ?? 'https://login.microsoftonline.com';
  const v1Host = options.v1IssuerHost ?? 'https://sts.windows.net';
  const jwks = createRemoteJWKSet(new URL(`${authority}/${options.entraTenantId}/discovery/v2.0/keys`));
  const issuers = [`${v1Host}/${options.entraTenantId}/`, `${authority}/${options.entraTenantId}/v2.0`];
  const audiences = [options.audience, ...(options.clientId ? [options.clientId] : [])];
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: issuers, audience: audiences, algorithms: ['RS256'] });
      // A v1 token names the caller in `appid`, a v2 token in `azp`; each shape keeps its own claim.
      const caller = payload.ver === '1.0' ? payload.appid : payload.azp;
      if (typeof payload.oid === 'string') return payload.oid;
      return typeof caller === 'string' ? caller : undefined;
    } catch {
      return undefined;
    }
  };
}
