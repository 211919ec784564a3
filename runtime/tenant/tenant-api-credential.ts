/**
 * The short-lived credential with which the platform calls a tenant runtime's read and
 * redeliver API on behalf of the tenant's owner (console, CLI). It is a JWT (HS256, `jose`)
 * that lives 60 s, names the tenant as its audience and the caller as its subject.
 *
 * Its key is derived (HKDF-SHA-256) from the tenant's own forward-signing secret, which only the
 * platform and that tenant's runtime hold: one tenant's credential never verifies on another
 * tenant's runtime (different key, different audience), and no new secret has to be provisioned.
 * Never a GitHub token: the runtime gets those from the broker alone.
 */
import { hkdfSync } from 'node:crypto';
import type { HttpHandler } from '@azure/functions';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';

const issuer = 'zekt-platform';
const algorithm = 'HS256';
/** How long a credential is good for; a call needs one for a few seconds at most. */
export const tenantApiCredentialTtlSeconds = 60;

export class TenantApiCredentialError extends Error {
  override name = 'TenantApiCredentialError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function keyOf(forwardSecret: string): Uint8Array {
  const raw = Buffer.from(forwardSecret.replace(/^whsec_/, ''), 'base64');
  return new Uint8Array(hkdfSync('sha256', raw, Buffer.alloc(0), 'zekt-tenant-api-credential', 32));
}

const audienceOf = (tenantId: string) => `zekt-tenant:${tenantId}`;

export interface IssueTenantApiCredentialInput {
  readonly tenantId: string;
  /** The tenant's current forward-signing secret. */
  readonly forwardSecret: string;
  /** Who the call is for: `user:<login>` or `operator`. Recorded by the runtime, never trusted for more. */
  readonly subject: string;
  /** Epoch milliseconds; tests pin it. */
  readonly now?: number;
}

export function issueTenantApiCredential(input: IssueTenantApiCredentialInput): Promise<string> {
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: algorithm })
    .setIssuer(issuer)
    .setAudience(audienceOf(input.tenantId))
    .setSubject(input.subject)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + tenantApiCredentialTtlSeconds)
    .sign(keyOf(input.forwardSecret));
}

/** Verifies a credential for this tenant with its current or previous secret; returns its subject. */
export async function verifyTenantApiCredential(input: { tenantId: string; secrets: ForwardSecrets; token: string; now?: number }): Promise<{ subject: string }> {
  let lastError: unknown;
  for (const secret of [input.secrets.current, input.secrets.previous].filter((s): s is string => Boolean(s))) {
    try {
      const { payload } = await jwtVerify(input.token, keyOf(secret), {
        issuer,
        audience: audienceOf(input.tenantId),
        algorithms: [algorithm],
        clockTolerance: 5,
        ...(input.now === undefined ? {} : { currentDate: new Date(input.now) }),
      });
      if (!payload.sub) throw new TenantApiCredentialError('the credential names no subject');
      return { subject: payload.sub };
    } catch (err) {
      lastError = err;
      // A key mismatch may be the rotation's other secret; anything else is final.
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw new TenantApiCredentialError('the tenant API credential is not valid for this tenant', { cause: lastError });
}

/**
 * Wraps a tenant API handler: `Authorization: Bearer <credential>` must verify for this tenant,
 * else 401 and the handler never runs. Handlers get the verified caller as a third argument.
 */
export function requireTenantApiCredential(
  options: { tenantId: string; secrets: () => Promise<ForwardSecrets | undefined> },
  handler: (request: Parameters<HttpHandler>[0], context: Parameters<HttpHandler>[1], caller: { subject: string }) => ReturnType<HttpHandler>,
): HttpHandler {
  return async (request, context) => {
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!token) return { status: 401, jsonBody: { error: 'a tenant API credential is required' } };
    const secrets = await options.secrets();
    if (!secrets) return { status: 503, jsonBody: { error: 'not ready' } };
    let caller: { subject: string };
    try {
      caller = await verifyTenantApiCredential({ tenantId: options.tenantId, secrets, token });
    } catch (err) {
      context.warn(`tenant API credential refused: ${(err as Error).message}`);
      return { status: 401, jsonBody: { error: 'the tenant API credential is not valid for this tenant' } };
    }
    return handler(request, context, caller);
  };
}
