/**
 * Where a browser goes back to after signing in. Only a path on Zekt's own origin is accepted —
 * anything else (`https://evil.example`, `//evil.example`, `/\evil.example`, `javascript:`,
 * control characters) is an open redirect waiting to happen, and yields undefined.
 * https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html
 */

/** Longest return path kept (it rides in a cookie). */
const maxLength = 1024;

export function safeReturnTo(value: string | null | undefined, publicUrl: string): string | undefined {
  if (!value || value.length > maxLength) return undefined;
  // A path, and not a scheme-relative or backslash URL that browsers read as another host.
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || char === '\\') return undefined;
  }
  const origin = new URL(publicUrl).origin;
  let resolved: URL;
  try {
    resolved = new URL(value, origin);
  } catch {
    return undefined;
  }
  if (resolved.origin !== origin) return undefined;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
