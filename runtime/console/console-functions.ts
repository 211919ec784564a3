/**
 * The console: static pages at the root (`/`, `/signup`, `/overview`, …) and their assets under
 * `/assets/`, plus `GET /api/github/app` (where to install the App). Pages carry no data — each
 * page's module fetches it from the same JSON API the CLI uses — so nothing secret can be in a page,
 * and the strict CSP needs no inline script or style. Files are read once, on first request.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import type { FunctionDefinition } from '../functions/function-table.ts';
import type { AppRequest } from '../github/create-app-request.ts';
import { consoleSecurityHeaders } from './content-security-policy.ts';

/** Console pages: path segment → file in static/ ('' is the landing page). */
export const consolePages: Readonly<Record<string, string>> = {
  '': 'index.html',
  signup: 'signup.html',
  overview: 'overview.html',
  install: 'install.html',
  installations: 'installations.html',
  subscriptions: 'subscriptions.html',
  events: 'events.html',
  workflows: 'workflows.html',
  account: 'account.html',
};

export const consoleStaticDir = fileURLToPath(new URL('./static/', import.meta.url));

const types: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

/** Every page and asset, by the path it is served at. */
export async function loadConsoleFiles(dir: string = consoleStaticDir): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  for (const [segment, file] of Object.entries(consolePages)) {
    files.set(`/${segment}`, { type: types['.html'] as string, body: await readFile(path.join(dir, file)) });
  }
  for (const name of await readdir(path.join(dir, 'assets'))) {
    const type = types[path.extname(name)];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name)) files.set(`/assets/${name}`, { type, body: await readFile(path.join(dir, 'assets', name)) });
  }
  return files;
}

export interface ConsoleDeps {
  /** The App-authenticated GitHub request, when the App is configured. */
  readonly appRequest: () => Promise<AppRequest | undefined>;
}

export function createConsole(deps: ConsoleDeps) {
  let filesPromise: Promise<Map<string, StaticFile>> | undefined;
  const files = () => (filesPromise ??= loadConsoleFiles().catch((err: unknown) => {
    filesPromise = undefined;
    throw err;
  }));

  const serve = (key: (params: Record<string, string>) => string): HttpHandler => async (request) => {
    const file = (await files()).get(key(request.params));
    if (!file) {
      const notFound = (await files()).get('/') as StaticFile;
      return { status: 404, headers: { ...consoleSecurityHeaders, 'content-type': notFound.type }, body: notFound.body };
    }
    return { status: 200, headers: { ...consoleSecurityHeaders, 'content-type': file.type }, body: file.body };
  };

  let installUrl: Promise<HttpResponseInit> | undefined;
  const appInfo: HttpHandler = async (_request, context) =>
    (installUrl ??= (async (): Promise<HttpResponseInit> => {
      const request = await deps.appRequest();
      if (!request) return { status: 503, jsonBody: { error: 'the GitHub App is not configured' } };
      // GET /app answers the App's public page; its installation page is below it.
      const { data } = await request('GET /app');
      if (!data) return { status: 503, jsonBody: { error: 'the GitHub App is not reachable' } };
      return { status: 200, headers: { 'cache-control': 'max-age=300' }, jsonBody: { name: data.name, installUrl: `${data.html_url}/installations/new` } };
    })().catch((err: unknown) => {
      installUrl = undefined;
      context.error('console: GET /app failed', err);
      return { status: 503, jsonBody: { error: 'the GitHub App is not reachable' } };
    }));

  const functions: FunctionDefinition[] = [
    { kind: 'http', name: 'consolePage', route: '{page?}', atRoot: true, methods: ['GET'], authLevel: 'anonymous', handler: serve((p) => `/${p.page ?? ''}`) },
    { kind: 'http', name: 'consoleAsset', route: 'assets/{name}', atRoot: true, methods: ['GET'], authLevel: 'anonymous', handler: serve((p) => `/assets/${p.name ?? ''}`) },
    { kind: 'http', name: 'githubApp', route: 'github/app', methods: ['GET'], authLevel: 'anonymous', handler: appInfo },
  ];
  return { functions };
}
