/**
 * The HTTP half of the local host: a `node:http` server that maps `/api/<route>` onto the function
 * table and calls handlers with `@azure/functions`' own `HttpRequest` / `InvocationContext`, so a
 * handler cannot tell it from the Azure Functions host (the request reads the bytes the host already
 * holds: see buffered-request.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpResponseInit } from '@azure/functions';
import { defaultMaxBodyBytes, type HttpFunction } from '../functions/function-table.ts';
import { compileRoute } from './match-route.ts';
import { createInvocationContext } from './invocation-context.ts';
import { createBufferedHttpRequest } from './buffered-request.ts';
import type { Logger } from '../core/logger.ts';

export interface HttpServerHandle {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}


export async function serveHttp(
  functions: readonly HttpFunction[],
  options: { host: string; port: number; log: Logger },
): Promise<HttpServerHandle> {
  const routes = functions.map((fn) => ({ fn, route: compileRoute(fn.route) }));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log.error({ err }, 'local host failed to serve a request');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    // `/api/…` is the API; anything else may be a console page or asset (functions marked atRoot).
    const atApi = url.pathname.startsWith('/api/');
    const path = url.pathname.slice(atApi ? '/api/'.length : 1);
    let pathMatched = false;
    for (const { fn, route } of routes) {
      if (Boolean(fn.atRoot) === atApi) continue;
      const params = route.match(path);
      if (!params) continue;
      pathMatched = true;
      if (!fn.methods.includes(method as never)) continue;
      const cap = fn.maxBodyBytes ?? defaultMaxBodyBytes;
      // The route's cap is known before a byte is read: a declared length over it is refused at once.
      const body = Number(req.headers['content-length'] ?? '0') > cap ? 'too-large' : await readBody(req, cap);
      if (body === 'too-large') return refuseTooLarge(req, res, cap);
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
      // As Azure's front end does: the peer's address is the last X-Forwarded-For hop.
      const peer = req.socket.remoteAddress ?? 'unknown';
      headers.set('x-forwarded-for', headers.has('x-forwarded-for') ? `${headers.get('x-forwarded-for')}, ${peer}` : peer);
      const request = createBufferedHttpRequest({ method, url: url.toString(), headers, query: url.searchParams, params, body });
      const context = createInvocationContext(fn.name, options.log, { trigger: 'http', route: fn.route });
      const response = await fn.handler(request, context);
      return send(res, response);
    }
    return send(res, pathMatched ? { status: 405, jsonBody: { error: 'method not allowed' } } : { status: 404, jsonBody: { error: 'not found' } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The body up to `cap` bytes, read with stream events (lighter than an async iterator on the hot
 * path); 'too-large' as soon as it passes the cap, keeping nothing of it.
 */
function readBody(req: http.IncomingMessage, cap: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        req.off('data', onData);
        chunks = [];
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/**
 * 413 and the connection closed: the rest of the body is not read, so a sender cannot keep the
 * host busy with it (clients that stream a body read the early answer, as HTTP/1.1 allows).
 */
function refuseTooLarge(req: http.IncomingMessage, res: http.ServerResponse, cap: number): void {
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ error: `request body exceeds ${cap} bytes` }));
  // Whatever is still in flight is discarded, never buffered; the socket closes after the answer.
  req.resume();
  res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
}

async function send(res: http.ServerResponse, init: HttpResponseInit): Promise<void> {
  const out: Record<string, string | string[]> = {};
  // Plain objects (what handlers return) are copied as they are; a Headers instance is walked.
  const given = init.headers;
  if (given instanceof Headers) given.forEach((value, name) => void (out[name] = value));
  else if (Array.isArray(given)) for (const [name, value] of given as [string, string][]) out[name.toLowerCase()] = value;
  else if (given) for (const [name, value] of Object.entries(given)) out[name.toLowerCase()] = String(value);
  let body: Buffer | undefined;
  if (init.jsonBody !== undefined) {
    body = Buffer.from(JSON.stringify(init.jsonBody));
    out['content-type'] ??= 'application/json';
  } else if (typeof init.body === 'string') {
    body = Buffer.from(init.body);
    out['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (init.body instanceof Uint8Array) {
    body = Buffer.from(init.body);
  } else if (init.body !== undefined && init.body !== null) {
    body = Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  }
  const cookies = (init.cookies ?? []).map(serializeCookie);
  if (cookies.length) out['set-cookie'] = cookies;
  res.writeHead(init.status ?? 200, out);
  res.end(body);
}

function serializeCookie(cookie: NonNullable<HttpResponseInit['cookies']>[number]): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.expires) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.secure) parts.push('Secure');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

