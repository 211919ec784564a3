/**
 * A signed-in customer of the platform, over plain HTTP: a cookie jar for the platform's origin,
 * the OAuth redirects followed by hand (the GitHub double consents at once), and the CSRF header
 * a page would send on every state-changing call. Used by the `npm start` story; tokens never
 * pass through it (the platform keeps GitHub's token server-side).
 */
export class PlatformSession {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly platformUrl: string) {}

  async fetch(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(pathOrUrl, this.platformUrl).toString();
    const headers = new Headers(init.headers);
    if (new URL(url).origin === new URL(this.platformUrl).origin && this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    if (new URL(url).origin === new URL(this.platformUrl).origin) {
      for (const cookie of res.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if (/Max-Age=0/i.test(cookie) || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    return res;
  }

  /** Follows redirects from `pathOrUrl` to the first answer that is not one. */
  async follow(pathOrUrl: string, max = 8): Promise<Response> {
    let url = new URL(pathOrUrl, this.platformUrl).toString();
    let res = await this.fetch(url);
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < max; hops++) {
      url = new URL(res.headers.get('location') ?? '/', url).toString();
      res = await this.fetch(url);
    }
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** A state-changing call as the console makes it: JSON body, CSRF header from the CSRF cookie. */
  post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return this.json<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-zekt-csrf': this.cookies.get('zekt_csrf') ?? '', origin: new URL(this.platformUrl).origin },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}
