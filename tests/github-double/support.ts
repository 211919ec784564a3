/**
 * Shared set-up of the GitHub double tests: a double per `describe`, seeded by the test, and after
 * each test a check that the double never answered with a response that breaks GitHub's REST
 * description (that would be a bug of the double, whatever the test asserted).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { request } from '@octokit/request';
import { createAppAuth } from '@octokit/auth-app';
import { startGitHubDouble, type GitHubDouble, type StartGitHubDoubleOptions } from '../../local/github-double/start-github-double.ts';

export function useGitHubDouble(options: StartGitHubDoubleOptions = {}): { readonly double: GitHubDouble } {
  const holder: { double?: GitHubDouble } = {};
  before(async () => {
    holder.double = await startGitHubDouble(options);
  });
  afterEach(() => {
    const broken = (holder.double?.schemaErrors ?? []).filter((e) => e.kind === 'invalid-response');
    expect(broken, 'the double sent responses that break GitHub\'s REST description').to.deep.equal([]);
  });
  after(async () => {
    await holder.double?.close();
  });
  return {
    get double() {
      if (!holder.double) throw new Error('the GitHub double is not started yet');
      return holder.double;
    },
  };
}

/** `@octokit/request` aimed at the double. */
export function apiRequest(double: GitHubDouble, token?: string) {
  return request.defaults({ baseUrl: double.apiUrl, ...(token ? { headers: { authorization: `token ${token}` } } : {}) });
}

/** `@octokit/auth-app` for an App of the double. */
export function appAuth(double: GitHubDouble, app = double.app) {
  return createAppAuth({ appId: app.id, privateKey: app.privateKey, request: apiRequest(double) });
}

/** The status of a refused `@octokit/request` call (and its body), or a failure when it succeeded. */
export async function refusal(call: Promise<unknown>): Promise<{ status: number; data: { message?: string; documentation_url?: string } }> {
  try {
    await call;
  } catch (err) {
    const e = err as { status?: number; response?: { data?: { message?: string; documentation_url?: string } } };
    if (typeof e.status !== 'number') throw err;
    return { status: e.status, data: e.response?.data ?? {} };
  }
  expect.fail('the request was expected to be refused');
}

export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver that records what it got and answers with the status a test sets. */
export async function startWebhookReceiver() {
  const received: Received[] = [];
  const behaviour = { status: 200, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      setTimeout(() => {
        res.writeHead(behaviour.status, { 'content-type': 'text/plain' });
        res.end(`answered ${behaviour.status}`);
      }, behaviour.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`,
    received,
    behaviour,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The webhooks a receiver got, parsed: `event.action` and payload, oldest first. */
export function receivedEvents(received: readonly Received[]): { key: string; payload: Record<string, unknown> }[] {
  return received.map((r) => {
    const payload = JSON.parse(r.body) as Record<string, unknown>;
    const action = typeof payload.action === 'string' ? `.${payload.action}` : '';
    return { key: `${String(r.headers['x-github-event'])}${action}`, payload };
  });
}

/** Calls the double's control API over HTTP, as a test in any language would. */
export async function control<T = Record<string, unknown>>(double: GitHubDouble, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${double.controlUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A user access token for `login`, through the double's OAuth web flow (what Zekt's sign-in does). */
export async function userToken(double: GitHubDouble, login: string, redirect: string): Promise<string> {
  const authorize = new URL(`${double.webUrl}/login/oauth/authorize`);
  authorize.searchParams.set('client_id', double.app.clientId);
  authorize.searchParams.set('redirect_uri', redirect);
  authorize.searchParams.set('login', login);
  authorize.searchParams.set('state', 's');
  const res = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const token = await request('POST /login/oauth/access_token', {
    baseUrl: double.webUrl,
    headers: { accept: 'application/json' },
    client_id: double.app.clientId,
    client_secret: double.app.clientSecret,
    code,
    redirect_uri: redirect,
  });
  return (token.data as { access_token: string }).access_token;
}
