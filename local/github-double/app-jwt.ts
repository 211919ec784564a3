/**
 * Authenticates a request as a GitHub App: an RS256 JWT signed with the App's private key,
 * checked with the App's public key and GitHub's own rules and error messages
 * (https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app):
 *
 * - `iss` is the App's id (an integer, or a numeric string) or its client id;
 * - `iat` is in the past: GitHub recommends back-dating it 60 s against clock drift;
 * - `exp` is in the future, at most 10 minutes from now, and so at most 10 minutes (plus the
 *   60 s back-dating allowance) after `iat`.
 *
 * `@octokit/auth-app` retries with a corrected clock when it reads the `iat`/`exp` messages,
 * so these texts are GitHub's verbatim.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { GitHubApiError } from './github-api-error.ts';
import type { App, GitHubState } from './state.ts';

/** Longest JWT lifetime GitHub accepts, counted from now (seconds). */
export const maxJwtLifetimeSeconds = 10 * 60;
/** How far `iat` may be back-dated beyond that lifetime (seconds), per GitHub's own JWT sample. */
export const jwtBackdateAllowanceSeconds = 60;

const messages = {
  undecodable: 'A JSON web token could not be decoded',
  issuer: "'Issuer' claim ('iss') must be an Integer",
  issuedAt: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
  expired: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  tooFar: "'Expiration time' claim ('exp') is too far in the future",
} as const;

const unauthorized = (message: string, cause?: unknown) =>
  new GitHubApiError(401, message, undefined, {}, cause === undefined ? undefined : { cause });

/** Whether a bearer credential has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/** The App a JWT authenticates, or a 401 `GitHubApiError` with GitHub's message. */
export async function verifyAppJwt(token: string, state: GitHubState, nowMs: number): Promise<App> {
  let claims: JWTPayload;
  try {
    if (decodeProtectedHeader(token).alg !== 'RS256') throw new Error('GitHub Apps sign JWTs with RS256');
    claims = decodeJwt(token);
  } catch (err) {
    throw unauthorized(messages.undecodable, err);
  }
  const app = appForIssuer(claims.iss, state);
  try {
    await compactVerify(token, app.publicKey, { algorithms: ['RS256'] });
  } catch (err) {
    throw unauthorized(messages.undecodable, err);
  }
  const now = Math.floor(nowMs / 1000);
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now) throw unauthorized(messages.issuedAt);
  if (typeof exp !== 'number' || exp <= now) throw unauthorized(messages.expired);
  if (exp - now > maxJwtLifetimeSeconds || exp - iat > maxJwtLifetimeSeconds + jwtBackdateAllowanceSeconds) {
    throw unauthorized(messages.tooFar);
  }
  return app;
}

function appForIssuer(iss: unknown, state: GitHubState): App {
  const raw = typeof iss === 'number' ? String(iss) : iss;
  if (typeof raw !== 'string' || raw === '') throw unauthorized(messages.issuer);
  if (/^\d+$/.test(raw)) {
    const app = state.apps.get(Number(raw));
    // An id no App has: GitHub cannot pick a key to check the signature with.
    if (!app) throw unauthorized(messages.undecodable);
    return app;
  }
  for (const app of state.apps.values()) if (app.clientId === raw) return app;
  throw unauthorized(messages.issuer);
}
