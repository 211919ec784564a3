/**
 * Registers a GitHub App from a manifest through GitHub's manifest flow
 * (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest), for
 * `zekt app create`: a page on loopback auto-posts the manifest form to
 * `<web>/settings/apps/new` (or the organisation's), GitHub sends the browser back to this page's
 * `/callback` with a one-time code, and the code is converted with
 * `POST /app-manifests/{code}/conversions`. The credentials are returned, never shown on a page.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHubAppManifest } from '../platform/github-app-manifest.ts';

export interface RegisteredGitHubApp {
  readonly id: number;
  readonly slug: string;
  readonly htmlUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  /** PEM. */
  readonly privateKey: string;
}

export interface RegisterGitHubAppOptions {
  /** The manifest; its `redirect_url` is replaced by this page's callback. */
  readonly manifest: GitHubAppManifest;
  readonly webUrl: string;
  readonly apiUrl: string;
  /** Register for this organisation instead of the signed-in user. */
  readonly org?: string;
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Called with the page to open in a browser. */
  readonly onReady: (pageUrl: string) => void;
  readonly fetch?: typeof fetch;
  /** How long to wait for the operator (default 15 minutes). */
  readonly timeoutMs?: number;
}

/** The manifest flow failed (conversion refused, timed out). */
export class AppRegistrationError extends Error {
  override name = 'AppRegistrationError';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;

export async function registerGitHubApp(options: RegisterGitHubAppOptions): Promise<RegisteredGitHubApp> {
  const doFetch = options.fetch ?? fetch;
  const state = randomBytes(16).toString('hex');
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const manifest = { ...options.manifest, redirect_url: `${origin}/callback` };
  const target = `${options.webUrl.replace(/\/$/, '')}${options.org ? `/organizations/${encodeURIComponent(options.org)}` : ''}/settings/apps/new?state=${state}`;

  try {
    return await new Promise<RegisteredGitHubApp>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppRegistrationError('no App was registered in time: open the page and confirm on GitHub')), options.timeoutMs ?? 15 * 60_000);
      server.on('request', (req, res) => {
        const url = new URL(req.url ?? '/', origin);
        const send = (status: number, html: string) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(html);
        };
        if (req.method === 'GET' && url.pathname === '/') {
          // The form posts straight to GitHub, where the operator confirms the App.
          return send(
            200,
            page(
              'Register the Zekt GitHub App',
              `<form id="manifest" method="post" action="${escapeHtml(target)}"><input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}"><button type="submit">Register the GitHub App on GitHub</button></form><script>document.getElementById('manifest').submit()</script>`,
            ),
          );
        }
        if (req.method === 'GET' && url.pathname === '/callback') {
          const given = Buffer.from(url.searchParams.get('state') ?? '');
          const code = url.searchParams.get('code') ?? '';
          if (given.length !== state.length || !timingSafeEqual(given, Buffer.from(state)) || !/^[A-Za-z0-9_-]{1,100}$/.test(code)) {
            return send(400, page('Refused', '<p>This callback does not belong to the registration started here.</p>'));
          }
          void (async () => {
            const response = await doFetch(`${options.apiUrl.replace(/\/$/, '')}/app-manifests/${code}/conversions`, {
              method: 'POST',
              headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
            });
            if (response.status !== 201) throw new AppRegistrationError(`GitHub refused the manifest code: ${response.status}`);
            const app = (await response.json()) as { id: number; slug: string; html_url: string; client_id: string; client_secret: string; webhook_secret: string | null; pem: string };
            if (!app.webhook_secret) throw new AppRegistrationError('the App was registered without a webhook secret');
            send(200, page('Registered', `<p>GitHub App <b>${escapeHtml(app.slug)}</b> registered; its credentials are in the local vault. You can close this page.</p>`));
            clearTimeout(timer);
            resolve({ id: app.id, slug: app.slug, htmlUrl: app.html_url, clientId: app.client_id, clientSecret: app.client_secret, webhookSecret: app.webhook_secret, privateKey: app.pem });
          })().catch((err: unknown) => {
            send(502, page('Failed', '<p>The App could not be registered; see the terminal.</p>'));
            clearTimeout(timer);
            reject(err instanceof AppRegistrationError ? err : new AppRegistrationError('converting the manifest code failed', { cause: err }));
          });
          return;
        }
        send(404, page('Not found', '<p>Not found</p>'));
      });
      options.onReady(`${origin}/`);
    });
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
