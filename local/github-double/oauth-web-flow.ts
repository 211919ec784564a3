/**
 * GitHub's OAuth web flow for GitHub Apps, with PKCE
 * (https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app):
 *
 * - `GET /login/oauth/authorize` consents at once as the signed-in user of the double (or the
 *   user named by `login`) and redirects to `redirect_uri` with `code` and `state`;
 * - `POST /login/oauth/access_token` exchanges the code (form or JSON body, answer in JSON when
 *   `Accept: application/json`, form-encoded otherwise) and refreshes user tokens.
 *
 * Codes are single-use and expire after 10 minutes; only the `S256` challenge method is accepted
 * (https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication).
 * Token errors are HTTP 200 with `error`, `error_description` and `error_uri`, as on GitHub.
 * These endpoints are not in the REST description, so their parameters are checked here against
 * GitHub's documented lists; unknown or malformed ones are reported through `onSchemaError`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { header, type DoubleRequest, type DoubleResponse } from './http-exchange.ts';
import { randomToken } from './installation-tokens.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import type { App, GitHubState, User } from './state.ts';

/** Authorization codes live 10 minutes. */
export const authorizationCodeLifetimeMs = 10 * 60 * 1000;
/** User access tokens of GitHub Apps expire after 8 hours (28800 s), refresh tokens after 6 months. */
export const userTokenLifetimeSeconds = 28_800;
export const refreshTokenLifetimeSeconds = 15_897_600;

const authorizeParameters = new Set([
  // Not in GitHub's list, but every OAuth 2.0 client sends it (RFC 6749 §4.1.1) and GitHub ignores it.
  'response_type',
  'client_id',
  'redirect_uri',
  'login',
  'scope',
  'state',
  'allow_signup',
  'prompt',
  'code_challenge',
  'code_challenge_method',
]);
const accessTokenParameters = new Set([
  'client_id',
  'client_secret',
  'code',
  'redirect_uri',
  'code_verifier',
  'grant_type',
  'refresh_token',
  'repository_id',
]);

const troubleshooting = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/';
const tokenErrors = {
  incorrect_client_credentials: ['The client_id and/or client_secret passed are incorrect.', '#incorrect-client-credentials'],
  redirect_uri_mismatch: ['The redirect_uri MUST match the registered callback URL for this application.', '#redirect-uri-mismatch2'],
  bad_verification_code: ['The code passed is incorrect or expired.', '#bad-verification-code'],
  bad_refresh_token: ['The refresh token passed is incorrect or expired.', '#bad-refresh-token'],
  unsupported_grant_type: ['The grant type is not supported.', ''],
} as const;
type TokenError = keyof typeof tokenErrors;

export interface UserToken {
  readonly user: User;
  readonly app: App;
  readonly expiresAt: number;
}

export interface OAuthWebFlow {
  authorize(request: DoubleRequest): DoubleResponse;
  accessToken(request: DoubleRequest): DoubleResponse;
  /** The live user token for a `ghu_` string. */
  lookup(token: string): UserToken | undefined;
  /** The user who consents when `authorize` names none (`login`). */
  signInAs(login: string | undefined): void;
}

interface PendingCode {
  readonly app: App;
  readonly user: User;
  readonly redirectUri: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly expiresAt: number;
}

export function createOAuthWebFlow(options: {
  state: GitHubState;
  now: () => number;
  onSchemaError: (endpoint: string, problems: readonly string[]) => void;
}): OAuthWebFlow {
  const { state, now, onSchemaError } = options;
  const codes = new Map<string, PendingCode>();
  const tokens = new Map<string, UserToken>();
  const refreshTokens = new Map<string, { user: User; app: App; expiresAt: number }>();
  let signedIn: string | undefined;

  function appByClientId(clientId: string | undefined): App | undefined {
    for (const app of state.apps.values()) if (app.clientId === clientId) return app;
    return undefined;
  }

  function issueTokens(app: App, user: User): JsonObject {
    const accessToken = `ghu_${randomToken(36)}`;
    const refreshToken = `ghr_${randomToken(76)}`;
    tokens.set(accessToken, { user, app, expiresAt: now() + userTokenLifetimeSeconds * 1000 });
    refreshTokens.set(refreshToken, { user, app, expiresAt: now() + refreshTokenLifetimeSeconds * 1000 });
    return {
      access_token: accessToken,
      expires_in: userTokenLifetimeSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: refreshTokenLifetimeSeconds,
      scope: '',
      token_type: 'bearer',
    };
  }

  return {
    signInAs(login) {
      if (login !== undefined) state.user(login);
      signedIn = login;
    },

    authorize(request) {
      const params = request.url.searchParams;
      const problems = [...params.keys()].filter((k) => !authorizeParameters.has(k)).map((k) => `unknown parameter "${k}"`);
      const clientId = params.get('client_id') ?? undefined;
      if (!clientId) problems.push('"client_id" is required');
      const challenge = params.get('code_challenge') ?? undefined;
      const method = params.get('code_challenge_method') ?? undefined;
      if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
        problems.push('"code_challenge" must be the base64url SHA-256 of the verifier (43 characters)');
      }
      if (challenge !== undefined && method !== 'S256') problems.push('"code_challenge_method" must be S256');
      if (challenge === undefined && method !== undefined) problems.push('"code_challenge_method" without "code_challenge"');
      const responseType = params.get('response_type');
      if (responseType !== null && responseType !== 'code') problems.push('"response_type" must be code (GitHub has only the code flow)');
      const redirect = params.get('redirect_uri') ?? undefined;
      if (redirect !== undefined && !URL.canParse(redirect)) problems.push('"redirect_uri" must be an absolute URL');
      if (problems.length > 0) onSchemaError('GET /login/oauth/authorize', problems);

      const app = appByClientId(clientId);
      // GitHub shows its 404 page for an unknown client id; there is nowhere to redirect to.
      if (!app) return page(404, 'Not Found');
      const fallback = app.callbackUrls[0];
      // GitHub Apps: the redirect_uri must exactly match one of the registered callback URLs.
      if (redirect !== undefined && !app.callbackUrls.includes(redirect)) {
        if (!fallback) return page(400, 'The redirect_uri MUST match the registered callback URL for this application.');
        return redirectTo(fallback, {
          error: 'redirect_uri_mismatch',
          error_description: tokenErrors.redirect_uri_mismatch[0],
          error_uri: `${troubleshooting.replace('oauth-app-access-token-request-errors', 'authorization-request-errors')}#redirect-uri-mismatch`,
          ...(params.has('state') ? { state: params.get('state') ?? '' } : {}),
        });
      }
      const target = redirect ?? fallback;
      if (!target) return page(400, 'The application has no callback URL.');
      if (problems.some((p) => p.includes('code_challenge'))) {
        return redirectTo(target, {
          error: 'invalid_request',
          error_description: 'PKCE requires a S256 code_challenge.',
          ...(params.has('state') ? { state: params.get('state') ?? '' } : {}),
        });
      }
      const login = params.get('login') ?? undefined;
      const user =
        (login !== undefined ? state.users.get(login.toLowerCase()) : undefined) ??
        (signedIn !== undefined ? state.users.get(signedIn.toLowerCase()) : undefined) ??
        [...state.users.values()][0];
      if (!user) return page(403, 'No user is signed in to the GitHub double (seed one with addUser).');
      const code = randomBytes(10).toString('hex');
      codes.set(code, { app, user, redirectUri: redirect, codeChallenge: challenge, expiresAt: now() + authorizationCodeLifetimeMs });
      return redirectTo(target, { code, ...(params.has('state') ? { state: params.get('state') ?? '' } : {}) });
    },

    accessToken(request) {
      const params = readParams(request);
      const problems = Object.keys(params)
        .filter((k) => !accessTokenParameters.has(k))
        .map((k) => `unknown parameter "${k}"`);
      const grantType = params.grant_type ?? (params.refresh_token !== undefined ? 'refresh_token' : 'authorization_code');
      const required = grantType === 'refresh_token' ? ['client_id', 'client_secret', 'refresh_token'] : ['client_id', 'client_secret', 'code'];
      for (const name of required) if (!params[name]) problems.push(`"${name}" is required`);
      if (problems.length > 0) onSchemaError('POST /login/oauth/access_token', problems);
      const json = (header(request, 'accept') ?? '').includes('application/json');
      const answer = (body: Record<string, string | number>) =>
        json
          ? { status: 200, json: body }
          : {
              status: 200,
              headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
              text: new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString(),
            };
      const fail = (error: TokenError) => {
        const [description, anchor] = tokenErrors[error];
        return answer({ error, error_description: description, error_uri: `${troubleshooting}${anchor}` });
      };

      const app = appByClientId(params.client_id);
      if (!app || params.client_secret !== app.clientSecret) return fail('incorrect_client_credentials');

      if (grantType === 'refresh_token') {
        const refresh = params.refresh_token ? refreshTokens.get(params.refresh_token) : undefined;
        if (!refresh || refresh.app.id !== app.id || refresh.expiresAt <= now()) return fail('bad_refresh_token');
        // A refresh token is single-use: the new pair replaces it.
        refreshTokens.delete(params.refresh_token as string);
        return answer(issueTokens(app, refresh.user) as Record<string, string | number>);
      }
      if (grantType !== 'authorization_code') return fail('unsupported_grant_type');

      const pending = params.code ? codes.get(params.code) : undefined;
      // Whatever happens next, a presented code is spent (single use).
      if (params.code) codes.delete(params.code);
      if (!pending || pending.app.id !== app.id || pending.expiresAt <= now()) return fail('bad_verification_code');
      if (params.redirect_uri !== undefined && pending.redirectUri !== undefined && params.redirect_uri !== pending.redirectUri) {
        return fail('redirect_uri_mismatch');
      }
      if (pending.codeChallenge !== undefined) {
        const verifier = params.code_verifier;
        if (!verifier || s256(verifier) !== pending.codeChallenge) return fail('bad_verification_code');
      }
      return answer(issueTokens(app, pending.user) as Record<string, string | number>);
    },

    lookup(token) {
      const found = tokens.get(token);
      if (!found) return undefined;
      if (found.expiresAt <= now()) {
        tokens.delete(token);
        return undefined;
      }
      return found;
    },
  };
}

/** PKCE S256: base64url(SHA-256(verifier)), https://www.rfc-editor.org/rfc/rfc7636#section-4.2 */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** GitHub reads these parameters from the query string, a form body or a JSON body. */
function readParams(request: DoubleRequest): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = Object.fromEntries(request.url.searchParams);
  const type = header(request, 'content-type') ?? '';
  const text = request.body.toString('utf8');
  if (text.length === 0) return params;
  if (type.includes('application/json')) {
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      return params;
    }
    if (isJsonObject(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (v !== null) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    return params;
  }
  return { ...params, ...Object.fromEntries(new URLSearchParams(text)) };
}

function redirectTo(target: string, query: Record<string, string>): DoubleResponse {
  const url = new URL(target);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return { status: 302, headers: { location: url.toString(), 'content-type': 'text/html; charset=utf-8' }, text: '' };
}

function page(status: number, message: string): DoubleResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, text: `<!DOCTYPE html><title>${message}</title><p>${message}</p>` };
}
