/**
 * Cookie names and attributes. On https the session cookie uses the `__Host-` prefix (Secure,
 * Path=/, no Domain: it cannot be set by a sibling subdomain); on plain-http localhost, browsers
 * refuse Secure cookies, so the prefix and Secure are dropped there only.
 * https://developer.mozilla.org/docs/Web/HTTP/Cookies#cookie_prefixes
 */
import { parse } from 'cookie';
import type { Cookie, HttpRequest } from '@azure/functions';

export interface CookiePolicy {
  readonly secure: boolean;
  readonly session: string;
  readonly csrf: string;
  readonly authFlow: string;
  /** The console path to go back to after sign-in (HttpOnly, lives as long as the OAuth state). */
  readonly returnTo: string;
}

export function cookiePolicy(publicUrl: string): CookiePolicy {
  const secure = new URL(publicUrl).protocol === 'https:';
  const prefix = secure ? '__Host-' : '';
  return { secure, session: `${prefix}zekt_session`, csrf: `${prefix}zekt_csrf`, authFlow: `${prefix}zekt_auth`, returnTo: `${prefix}zekt_return` };
}

export function readCookie(request: HttpRequest, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  return parse(header)[name];
}

export function setCookie(policy: CookiePolicy, name: string, value: string, maxAgeSeconds: number, httpOnly = true): Cookie {
  return { name, value, path: '/', httpOnly, secure: policy.secure, sameSite: 'Lax', maxAge: maxAgeSeconds };
}

export function clearCookie(policy: CookiePolicy, name: string, httpOnly = true): Cookie {
  return setCookie(policy, name, '', 0, httpOnly);
}
