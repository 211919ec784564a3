/**
 * A Key Vault-compatible secrets endpoint for one local vault, the subset Zekt uses: set, get,
 * list, delete and versions (https://learn.microsoft.com/rest/api/keyvault/secrets/). It speaks
 * what `@azure/keyvault-secrets` expects, read from its source:
 * - TLS: the SDK's bearer-token policy refuses plain http, so the vault serves https with the
 *   resource manager's self-signed certificate (clients trust it: `tlsOptions.ca` in-process,
 *   `NODE_EXTRA_CA_CERTS` for spawned processes).
 * - The challenge: the SDK sends its first request without a token or body and expects
 *   `401 WWW-Authenticate: Bearer authorization="…", resource="…"`, then asks its credential for
 *   `<resource>/.default`. Clients set `disableChallengeResourceVerification` because the vault
 *   host (127.0.0.1) is not a subdomain of the resource, which that check requires.
 * - Identifiers: `id` is `<vault origin>/secrets/<name>/<version>`; the SDK parses the vault URL
 *   back from the origin, so every vault has its own port rather than a path prefix.
 * Authentication happens before the body is read; a valid token of an identity that is not on the
 * vault's access list gets 403, anything else 401.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../runtime/core/logger.ts';
import { verifyLocalIdentityToken } from '../../runtime/core/local-identity.ts';
import type { SecretVersion, StateStore, VaultRecord } from './resource-manager-state.ts';
import { withEntry } from './resource-manager-state.ts';
import { deleteSecret, getSecret, InvalidSecretError, maxSecretValueBytes, setSecret } from './vault-secrets.ts';

/** The audience local vault tokens carry: the resource Azure Key Vault names in its challenge. */
export const vaultResource = 'https://vault.azure.net';

/** Where the challenge says tokens come from; its path is the "tenant" the SDK passes along. */
const authority = 'https://localhost/zekt-local-identity';

export interface VaultServerOptions {
  readonly vaultName: string;
  readonly store: StateStore;
  readonly tls: { readonly key: string; readonly cert: string };
  readonly host: string;
  /** 0 picks a free port (first start); afterwards the recorded port, so the vault URI stays. */
  readonly port: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface VaultServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface KeyVaultError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export async function serveVault(options: VaultServerOptions): Promise<VaultServer> {
  const now = options.now ?? Date.now;
  let origin = '';

  const vault = (): VaultRecord | undefined => options.store.current().vaults[options.vaultName];
  const secretOf = (clientId: string) =>
    Object.values(options.store.current().identities).find((identity) => identity.clientId === clientId)?.secret;

  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log.error({ err, vault: options.vaultName }, 'local vault failed to serve a request');
      if (!res.headersSent) send(res, 500, { error: { code: 'InternalServerError', message: 'internal error' } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record = vault();
    if (!record) return fail(res, { status: 404, code: 'VaultNotFound', message: 'this vault does not exist' });

    const authorization = req.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const clientId = token ? verifyLocalIdentityToken(token, secretOf, { audience: vaultResource, now: now() }) : undefined;
    if (!clientId) {
      req.resume();
      res.setHeader('WWW-Authenticate', `Bearer authorization="${authority}", resource="${vaultResource}"`);
      return fail(res, { status: 401, code: 'Unauthorized', message: 'AKV10000: Request is missing a valid Bearer token.' });
    }
    if (!record.readers.includes(clientId)) {
      req.resume();
      return fail(res, { status: 403, code: 'Forbidden', message: 'The caller is not authorized to use this vault.' });
    }

    const url = new URL(req.url ?? '/', origin);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const maxResults = Number(url.searchParams.get('maxresults') ?? '25');

    if (parts[0] !== 'secrets') return fail(res, { status: 404, code: 'NotFound', message: 'unknown path' });
    const [, name, second] = parts;

    if (!name) {
      if (method !== 'GET') return methodNotAllowed(res);
      const items = Object.entries(record.secrets).flatMap(([secretName, versions]) => {
        const newest = versions.at(-1);
        return newest ? [item(secretName, newest, false)] : [];
      });
      return send(res, 200, { value: items.slice(0, Math.max(1, maxResults)), nextLink: null });
    }

    if (second === 'versions') {
      if (method !== 'GET') return methodNotAllowed(res);
      const versions = record.secrets[name] ?? [];
      if (!versions.length) return secretNotFound(res, name);
      return send(res, 200, { value: versions.map((v) => item(name, v, true)), nextLink: null });
    }

    switch (method) {
      case 'GET': {
        const found = getSecret(record, name, second || undefined);
        return found ? send(res, 200, bundle(name, found)) : secretNotFound(res, name);
      }
      case 'PUT': {
        if (second) return methodNotAllowed(res);
        const body = await readJson(req);
        if (!body.ok) return fail(res, { status: 400, code: 'BadParameter', message: body.message });
        const input = body.value as { value?: unknown; contentType?: unknown; tags?: unknown; attributes?: { enabled?: unknown } };
        try {
          let created: SecretVersion | undefined;
          await options.store.update((state) => {
            const current = state.vaults[options.vaultName];
            if (!current) throw new InvalidSecretError('the vault was deleted');
            const result = setSecret(
              current,
              name,
              {
                value: input.value as string,
                ...(typeof input.contentType === 'string' ? { contentType: input.contentType } : {}),
                ...(isStringRecord(input.tags) ? { tags: input.tags } : {}),
                ...(typeof input.attributes?.enabled === 'boolean' ? { enabled: input.attributes.enabled } : {}),
              },
              now(),
            );
            created = result.version;
            return { ...state, vaults: withEntry(state.vaults, options.vaultName, result.vault) };
          });
          return send(res, 200, bundle(name, created as SecretVersion));
        } catch (err) {
          if (err instanceof InvalidSecretError) return fail(res, { status: 400, code: 'BadParameter', message: err.message });
          throw err;
        }
      }
      case 'DELETE': {
        if (second) return methodNotAllowed(res);
        let deleted: SecretVersion | undefined;
        await options.store.update((state) => {
          const current = state.vaults[options.vaultName];
          if (!current) return state;
          const result = deleteSecret(current, name);
          deleted = result.deleted;
          return { ...state, vaults: withEntry(state.vaults, options.vaultName, result.vault) };
        });
        if (!deleted) return secretNotFound(res, name);
        const { value: _value, ...rest } = bundle(name, deleted);
        // No recoveryId: this vault has no soft-delete, so the SDK's delete poller completes at once.
        return send(res, 200, { ...rest, deletedDate: Math.floor(now() / 1000) });
      }
      default:
        return methodNotAllowed(res);
    }
  }

  function item(name: string, version: SecretVersion, withVersion: boolean) {
    return {
      id: withVersion ? `${origin}/secrets/${name}/${version.version}` : `${origin}/secrets/${name}`,
      attributes: attributes(version),
      ...(version.contentType ? { contentType: version.contentType } : {}),
      ...(version.tags ? { tags: version.tags } : {}),
    };
  }

  function bundle(name: string, version: SecretVersion) {
    return {
      value: version.value,
      id: `${origin}/secrets/${name}/${version.version}`,
      attributes: attributes(version),
      ...(version.contentType ? { contentType: version.contentType } : {}),
      ...(version.tags ? { tags: version.tags } : {}),
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `https://${options.host}:${port}`;
  return {
    url: origin,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function attributes(version: SecretVersion) {
  return { enabled: version.enabled, created: version.created, updated: version.updated, recoveryLevel: 'Purgeable', recoverableDays: 0 };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

function secretNotFound(res: ServerResponse, name: string): void {
  fail(res, { status: 404, code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` });
}

function methodNotAllowed(res: ServerResponse): void {
  fail(res, { status: 405, code: 'MethodNotAllowed', message: 'method not allowed' });
}

function fail(res: ServerResponse, error: KeyVaultError): void {
  send(res, error.status, { error: { code: error.code, message: error.message } });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Room for a 25 KB value JSON-escaped plus attributes.
  const limit = maxSecretValueBytes * 2 + 4096;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return { ok: false, message: 'request body too large' };
    chunks.push(chunk as Buffer);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return { ok: false, message: 'the body must be a JSON object' };
    return { ok: true, value };
  } catch {
    return { ok: false, message: 'the body is not JSON' };
  }
}
