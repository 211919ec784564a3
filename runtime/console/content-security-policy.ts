/**
 * The headers every console page and asset carries. Scripts, styles and fetches come from Zekt's
 * own origin only — no inline script or style (`unsafe-inline` would let an injected string run) —
 * and no other site may frame the console (clickjacking).
 * https://developer.mozilla.org/docs/Web/HTTP/Headers/Content-Security-Policy
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // Pages hold no data (they fetch it), so they may be cached, but must be revalidated on deploy.
  'cache-control': 'no-cache',
};
