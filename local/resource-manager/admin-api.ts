/**
 * The resource manager's HTTP API, called by the tenant stack's dynamic providers (and by tests
 * that change things behind Pulumi's back). Loopback only; every request carries the admin token
 * (`Authorization: Bearer …`, compared in constant time) before anything is read. Errors map to
 * status here and nowhere else: 400 bad input, 401, 404, 409 another tenant's name, 500 generic.
 *
 *   PUT|GET|DELETE /identities/{name}                    { tenantId }
 *   PUT|GET|DELETE /storage-accounts/{name}              { tenantId, layout }
 *   PUT|GET|DELETE /vaults/{name}                        { tenantId, readers }
 *   PUT|GET|DELETE /vaults/{name}/secrets/{secret}       { value }
 *   PUT|GET|DELETE /function-runtimes/{name}             { tenantId, settings }
 *   GET /health
 */
import http from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../../runtime/core/logger.ts';
import { InvalidResourceRequestError, ResourceConflictError, ResourceNotFoundError, type LocalResources } from './local-resources.ts';
import { InvalidSecretError } from './vault-secrets.ts';

const maxBodyBytes = 256 * 1024;

export interface AdminApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const layoutSchema = z.object({
  tables: z.array(z.string()).max(64),
  queues: z.array(z.string()).max(64),
  containers: z.array(z.string()).max(64),
});
const readersSchema = z.array(z.string().min(1)).max(16);
const settingsSchema = z.record(z.string(), z.string());

/** Parses one body field, naming it when it is wrong. */
function field<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BodyError(`${name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

class BodyError extends Error {
  override name = 'BodyError';
}

export async function serveAdminApi(options: {
  readonly resources: LocalResources;
  readonly adminToken: string;
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
}): Promise<AdminApi> {
  const { resources, log } = options;
  const expected = createHash('sha256').update(`Bearer ${options.adminToken}`).digest();

  const authorized = (header: string | undefined) =>
    // Hashing both sides gives equal lengths, so the comparison is constant-time.
    timingSafeEqual(createHash('sha256').update(header ?? '').digest(), expected);

  const server = http.createServer((req, res) => {
    if (!authorized(req.headers.authorization)) {
      req.resume();
      return send(res, 401, { error: 'unauthorized' });
    }
    route(req).then(
      ({ status, body }) => send(res, status, body),
      (err: unknown) => {
        if (err instanceof InvalidResourceRequestError || err instanceof InvalidSecretError || err instanceof BodyError) {
          return send(res, 400, { error: err.message });
        }
        if (err instanceof ResourceConflictError) return send(res, 409, { error: err.message });
        if (err instanceof ResourceNotFoundError) return send(res, 404, { error: err.message });
        log.error({ err, method: req.method, path: req.url }, 'resource manager request failed');
        return send(res, 500, { error: 'internal error' });
      },
    );
  });

  async function route(req: http.IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const url = new URL(req.url ?? '/', 'http://manager');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const found = (value: unknown) => (value === undefined ? { status: 404, body: { error: 'not found' } } : { status: 200, body: value });
    const deleted = (existed: boolean) => ({ status: existed ? 204 : 404 });

    if (parts.length === 1 && parts[0] === 'health' && method === 'GET') return { status: 200, body: { status: 'ok' } };
    const [collection, name, sub, secret] = parts;
    if (!name) return { status: 404, body: { error: 'not found' } };

    if (collection === 'vaults' && sub === 'secrets' && secret && parts.length === 4) {
      switch (method) {
        case 'PUT': {
          const body = await readJson(req);
          if (typeof body.value !== 'string') throw new BodyError('value must be a string');
          return { status: 200, body: await resources.putVaultSecret(name, secret, body.value) };
        }
        case 'GET':
          return found(resources.getVaultSecret(name, secret));
        case 'DELETE':
          return deleted(await resources.deleteVaultSecret(name, secret));
        default:
          return { status: 405 };
      }
    }
    if (parts.length !== 2) return { status: 404, body: { error: 'not found' } };

    switch (`${method} ${collection}`) {
      case 'PUT identities': {
        const body = await readJson(req);
        return { status: 200, body: await resources.putIdentity(name, { tenantId: field(z.string(), body.tenantId, 'tenantId') }) };
      }
      case 'GET identities':
        return found(resources.getIdentity(name));
      case 'DELETE identities':
        return deleted(await resources.deleteIdentity(name));
      case 'PUT storage-accounts': {
        const body = await readJson(req);
        return {
          status: 200,
          body: await resources.putStorageAccount(name, { tenantId: field(z.string(), body.tenantId, 'tenantId'), layout: field(layoutSchema, body.layout, 'layout') }),
        };
      }
      case 'GET storage-accounts':
        return found(resources.getStorageAccount(name));
      case 'DELETE storage-accounts':
        return deleted(await resources.deleteStorageAccount(name));
      case 'PUT vaults': {
        const body = await readJson(req);
        return { status: 200, body: await resources.putVault(name, { tenantId: field(z.string(), body.tenantId, 'tenantId'), readers: field(readersSchema, body.readers, 'readers') }) };
      }
      case 'GET vaults':
        return found(resources.getVault(name));
      case 'DELETE vaults':
        return deleted(await resources.deleteVault(name));
      case 'PUT function-runtimes': {
        const body = await readJson(req);
        return {
          status: 200,
          body: await resources.putFunctionRuntime(name, {
            tenantId: field(z.string(), body.tenantId, 'tenantId'),
            settings: field(settingsSchema, body.settings, 'settings'),
          }),
        };
      }
      case 'GET function-runtimes':
        return found(resources.getFunctionRuntime(name));
      case 'DELETE function-runtimes':
        return deleted(await resources.deleteFunctionRuntime(name));
      default:
        return { status: 404, body: { error: 'not found' } };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
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

async function readJson(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new BodyError('request body too large');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new BodyError('the body is not JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError('the body must be a JSON object');
  return value as Json;
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
