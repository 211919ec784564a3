/**
 * `GET /api/auth/login`, `GET /api/auth/callback`, `POST /api/auth/logout`, `GET /api/auth/session`:
 * the browser side of GitHub sign-in. The user's GitHub token is exchanged and kept server-side;
 * responses and redirects carry only opaque cookies. `login?return_to=/path` sends the browser back
 * to that console path after sign-in — only a same-origin path (see safe-return-to.ts).
 */
import type { HttpHandler } from '@azure/functions';
import { randomPKCECodeVerifier } from 'openid-client';
import type { Logger } from '../core/logger.ts';
import type { AuthStateStore } from './auth-state-store.ts';
import { clearCookie, readCookie, setCookie, type CookiePolicy } from './cookies.ts';
import type { GitHubOAuth } from './github-oauth.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { SessionGuard } from './require-session.ts';
import type { SessionStore } from './session-store.ts';
import { clientAddress, type LoginRateLimit } from './login-rate-limit.ts';
import { safeReturnTo } from '../console/safe-return-to.ts';

export interface SignInDeps {
  readonly oauth: () => Promise<GitHubOAuth>;
  readonly states: AuthStateStore;
  /** Bounds the states one client address creates (every anonymous login writes one). */
  readonly rate: LoginRateLimit;
  readonly sessions: SessionStore;
  readonly guard: SessionGuard;
  readonly cookies: CookiePolicy;
  readonly stateTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  /** Where a signed-in user lands when no `return_to` was given. */
  readonly afterSignIn: string;
  /** Zekt's public base URL: a `return_to` must be a path on its origin. */
  readonly publicUrl: string;
  readonly log: Logger;
}

export function createSignInHandlers(deps: SignInDeps): Record<'login' | 'callback' | 'logout' | 'session', HttpHandler> {
  return {
    async login(request, context) {
      try {
        await deps.rate.take(clientAddress(request));
        const oauth = await deps.oauth();
        const issued = await deps.states.issue(randomPKCECodeVerifier());
        const location = await oauth.authorizationUrl(issued.state, issued.codeVerifier);
        const returnTo = safeReturnTo(new URL(request.url).searchParams.get('return_to'), deps.publicUrl);
        return {
          status: 302,
          headers: { location, ...noStore },
          cookies: [
            setCookie(deps.cookies, deps.cookies.authFlow, issued.browserNonce, deps.stateTtlSeconds),
            returnTo ? setCookie(deps.cookies, deps.cookies.returnTo, returnTo, deps.stateTtlSeconds) : clearCookie(deps.cookies, deps.cookies.returnTo),
          ],
        };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },

    async callback(request, context) {
      try {
        const url = new URL(request.url);
        const state = url.searchParams.get('state');
        // The state is spent first: whatever happens next, it cannot be used again.
        const verifier = await deps.states.take(state, readCookie(request, deps.cookies.authFlow));
        if (url.searchParams.get('error')) {
          return { status: 400, headers: { ...noStore }, jsonBody: { error: `GitHub sign-in was not completed: ${url.searchParams.get('error')}` } };
        }
        const oauth = await deps.oauth();
        const grant = await oauth.exchange(url, state as string, verifier);
        const { id, session } = await deps.sessions.create(grant.user, grant.token, grant.expiresAt);
        deps.log.info({ githubUserId: grant.user.id }, 'signed in');
        // Checked again here: the cookie is ours, but the rule is cheap and lives in one place.
        const returnTo = safeReturnTo(readCookie(request, deps.cookies.returnTo), deps.publicUrl);
        return {
          status: 302,
          headers: { location: returnTo ? `${new URL(deps.publicUrl).origin}${returnTo}` : deps.afterSignIn, ...noStore },
          cookies: [
            clearCookie(deps.cookies, deps.cookies.authFlow),
            clearCookie(deps.cookies, deps.cookies.returnTo),
            setCookie(deps.cookies, deps.cookies.session, id, deps.sessionTtlSeconds),
            // Readable by Zekt's page so it can send X-Zekt-CSRF; worthless to another origin.
            setCookie(deps.cookies, deps.cookies.csrf, session.csrfToken, deps.sessionTtlSeconds, false),
          ],
        };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },

    async logout(request, context) {
      try {
        const session = await deps.guard.requireWithCsrf(request);
        await deps.sessions.destroy(session);
        return {
          status: 204,
          headers: { ...noStore },
          cookies: [clearCookie(deps.cookies, deps.cookies.session), clearCookie(deps.cookies, deps.cookies.csrf, false)],
        };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },

    async session(request, context) {
      try {
        const session = await deps.guard.require(request);
        return { status: 200, headers: { ...noStore }, jsonBody: { user: session.user, expiresAt: session.expiresAt } };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
  };
}
