/**
 * The session guard every signed-in endpoint uses, and the CSRF check of every state-changing one:
 * the request must carry the session's CSRF token in `X-Zekt-CSRF` (readable by the page from the
 * non-HttpOnly CSRF cookie, unreadable by another origin), compared in constant time, and its
 * `Origin`, when the browser sends one, must be Zekt's own. SameSite=Lax cookies already keep
 * cross-site POSTs from carrying the session; this is the second lock.
 */
import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { readCookie, type CookiePolicy } from './cookies.ts';
import { CsrfError, NotSignedInError } from './identity-errors.ts';
import type { Session, SessionStore } from './session-store.ts';

export function createSessionGuard(sessions: SessionStore, cookies: CookiePolicy, publicUrl: string) {
  const origin = new URL(publicUrl).origin;
  return {
    async require(request: HttpRequest): Promise<Session> {
      const session = await sessions.get(readCookie(request, cookies.session));
      if (!session) throw new NotSignedInError('sign in first');
      return session;
    },
    /** For POST/PUT/DELETE: a session plus proof the request came from Zekt's own page. */
    async requireWithCsrf(request: HttpRequest): Promise<Session> {
      const session = await this.require(request);
      const sentOrigin = request.headers.get('origin');
      if (sentOrigin && sentOrigin !== origin) throw new CsrfError('cross-origin request refused');
      const token = Buffer.from(request.headers.get('x-zekt-csrf') ?? '');
      const expected = Buffer.from(session.csrfToken);
      if (token.length !== expected.length || !timingSafeEqual(token, expected)) throw new CsrfError('missing or wrong CSRF token');
      return session;
    },
  };
}

export type SessionGuard = ReturnType<typeof createSessionGuard>;
