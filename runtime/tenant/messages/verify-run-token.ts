/**
 * Verifies a GitHub Actions OIDC token (a provider or consumer run calling the message endpoints)
 * with `jose` against the issuer's JWKS, found through its discovery document as GitHub publishes
 * it (https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect).
 *
 * - RS256 only, `iss` the configured issuer, `aud` this tenant's own audience, `exp`/`nbf` with
 *   a small tolerance for clock skew, `iat` at most `maxTokenAgeSeconds` old.
 * - The run is named by the numeric id claims (`repository_id`, `run_id`, `run_attempt`, strings
 *   of digits on GitHub). `sub` is never parsed: its format differs between repositories (and
 *   changes for those created after July 2026), and the ids are what stays true across renames.
 * - `jti` is single-use: `consume()` records it in the tenant's messages table (a conditional
 *   insert, so two concurrent requests with one token cannot both pass). Handlers call it last,
 *   once every other check has passed, so a refused request stores nothing at all.
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { statusOf } from '../../storage/status-of.ts';
import { RunTokenError } from './message-errors.ts';

/** Seconds of clock skew accepted on `exp` and `nbf`. */
export const runTokenClockToleranceSeconds = 60;
/** GitHub's tokens live about five minutes; an older `iat` is refused whatever its `exp` says. */
export const maxTokenAgeSeconds = 15 * 60;

/** The run a verified token speaks for. */
export interface RunIdentity {
  readonly repositoryId: number;
  /** `owner/name` at the time of the run (for logs and references; never used to authorise). */
  readonly repository: string;
  readonly runId: number;
  readonly runAttempt: number;
  readonly workflow?: string;
}

export interface VerifiedRunToken {
  readonly run: RunIdentity;
  /** Marks the token's `jti` used; throws `RunTokenError` when it already was. */
  consume(): Promise<void>;
}

export interface RunTokenVerifierOptions {
  /** The OIDC issuer (`GITHUB_OIDC_ISSUER`), without a trailing slash. */
  readonly issuer: string;
  /** This tenant's audience (message-audience.ts). */
  readonly audience: string;
  /** Where used `jti`s are kept (the tenant's `messages` table, partition `jti`). */
  readonly table: TableClient;
  /** Epoch milliseconds; tests pin it. */
  readonly now?: () => number;
  /** Tests may hand a key set; by default the issuer's JWKS from its discovery document. */
  readonly keys?: JWTVerifyGetKey;
  readonly fetch?: typeof fetch;
}

export type RunTokenVerifier = (authorization: string | null) => Promise<VerifiedRunToken>;

export function createRunTokenVerifier(options: RunTokenVerifierOptions): RunTokenVerifier {
  if (!/^https?:\/\//.test(options.issuer)) throw new Error('createRunTokenVerifier: issuer must be an http(s) URL');
  if (!options.audience) throw new Error('createRunTokenVerifier: audience is required');
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  let keys: Promise<JWTVerifyGetKey> | undefined = options.keys ? Promise.resolve(options.keys) : undefined;

  function keySet(): Promise<JWTVerifyGetKey> {
    keys ??= (async () => {
      const response = await doFetch(`${options.issuer}/.well-known/openid-configuration`);
      if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
      const discovery = (await response.json()) as { issuer?: string; jwks_uri?: string };
      if (discovery.issuer !== options.issuer || !discovery.jwks_uri) throw new Error('OIDC discovery does not describe the configured issuer');
      // jose caches the keys and refetches (rate-limited) when a token names an unknown `kid`, which covers key rotation.
      return createRemoteJWKSet(new URL(discovery.jwks_uri));
    })();
    // A failed discovery is retried by the next request instead of failing every later one.
    keys.catch(() => (keys = undefined));
    return keys;
  }

  return async (authorization) => {
    const token = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new RunTokenError('a GitHub Actions OIDC token is required (Authorization: Bearer)');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256'],
        clockTolerance: runTokenClockToleranceSeconds,
        maxTokenAge: maxTokenAgeSeconds,
        requiredClaims: ['exp', 'iat', 'jti'],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw new RunTokenError('the OIDC token is not valid for this tenant', { cause: err });
    }
    const run: RunIdentity = {
      repositoryId: idClaim(payload, 'repository_id'),
      repository: typeof payload.repository === 'string' ? payload.repository : '',
      runId: idClaim(payload, 'run_id'),
      runAttempt: idClaim(payload, 'run_attempt'),
      ...(typeof payload.workflow === 'string' ? { workflow: payload.workflow } : {}),
    };
    const jti = String(payload.jti);
    const exp = payload.exp as number;
    return {
      run,
      async consume() {
        try {
          await options.table.createEntity({
            // Hashed: a row key may not hold every character a `jti` may.
            partitionKey: 'jti',
            rowKey: createHash('sha256').update(jti).digest('hex'),
            // Kept until the token could no longer verify anyway; the purge timer removes it after.
            forgetAt: new Date((exp + runTokenClockToleranceSeconds) * 1000).toISOString(),
          });
        } catch (err) {
          if (statusOf(err) === 409) throw new RunTokenError('the OIDC token was used before');
          throw err;
        }
      },
    };
  };
}

/** GitHub writes numeric ids as strings of digits; accept those (and plain numbers), nothing else. */
function idClaim(payload: Record<string, unknown>, name: string): number {
  const value = payload[name];
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new RunTokenError(`the OIDC token has no valid ${name} claim`);
  return n;
}
