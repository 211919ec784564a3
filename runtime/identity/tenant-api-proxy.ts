/**
 * `GET|POST /api/tenant/<path>` on the platform: the signed-in owner's window on their own tenant
 * runtime (the console and the CLI use the same API). The session says who the user is; the
 * accounts store says which tenant they own — never a tenant named in the request, so no user can
 * reach another's tenant. The call goes on to the tenant runtime's `/api/<path>` with a fresh
 * credential (tenant-api-credential.ts, 60 s) that only that tenant's runtime accepts.
 *
 * Only the paths below pass; POST needs the session's CSRF token as every state change does.
 * The tenant's answer is passed back as JSON; no header of it (and no credential) reaches the browser.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Logger } from '../core/logger.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { issueTenantApiCredential } from '../tenant/tenant-api-credential.ts';
import { BadRequestError, NoTenantError } from './identity-errors.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { SessionGuard } from './require-session.ts';
import type { TenantAccounts } from './tenant-accounts.ts';

const id = '[A-Za-z0-9._:-]{1,128}';
/** The tenant runtime's API paths the owner may reach, by method. */
export const proxiedPaths: Readonly<Record<'GET' | 'POST', readonly RegExp[]>> = {
  GET: [/^events$/, new RegExp(`^events/${id}$`), /^deliveries$/, new RegExp(`^deliveries/${id}$`), /^subscriptions$/],
  POST: [new RegExp(`^deliveries/${id}/redeliver$`), /^subscriptions\/sync$/],
};

/** Larger request bodies are refused: the proxied calls take a few fields at most. */
const maxRequestBytes = 64 * 1024;

/** The tenant runtime cannot be asked now (not provisioned, no secret, unreachable). → 503/502/504 */
export class TenantUnavailableError extends Error {
  override name = 'TenantUnavailableError';
  constructor(
    readonly status: 502 | 503 | 504,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Not a proxied path. → 404 */
class NotProxiedError extends Error {
  override name = 'NotProxiedError';
}

export interface TenantApiProxyOptions {
  readonly guard: SessionGuard;
  readonly tenants: Pick<TenantAccounts, 'forOwner'>;
  /** The tenant's forward-signing secrets (the platform vault, as the ingress reads them). */
  readonly forwardSecrets: (tenantId: string) => Promise<ForwardSecrets | undefined>;
  readonly log: Logger;
  /** Per proxied call, in ms (10 s by default). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export function createTenantApiProxy(options: TenantApiProxyOptions): HttpHandler {
  const log = options.log.child({ part: 'tenant-api-proxy' });

  async function proxy(request: HttpRequest): Promise<HttpResponseInit> {
    const method = request.method === 'POST' ? 'POST' : 'GET';
    const session = method === 'POST' ? await options.guard.requireWithCsrf(request) : await options.guard.require(request);
    const path = request.params.path ?? '';
    if (!proxiedPaths[method].some((p) => p.test(path))) throw new NotProxiedError(`${method} /api/tenant/${path} is not a tenant API path`);
    const tenant = await options.tenants.forOwner(session.user.id);
    if (!tenant) throw new NoTenantError('this account has no tenant yet: POST /api/signup');
    const baseUrl = tenant.status === 'ready' ? tenant.endpoints?.baseUrl : undefined;
    if (!baseUrl) throw new TenantUnavailableError(503, `tenant ${tenant.tenantId} is ${tenant.status}, not ready`);
    const secrets = await options.forwardSecrets(tenant.tenantId);
    if (!secrets) throw new TenantUnavailableError(503, `tenant ${tenant.tenantId} is not ready`);

    let body: string | undefined;
    if (method === 'POST') {
      const declared = Number(request.headers.get('content-length') ?? '0');
      if (declared > maxRequestBytes) throw new BadRequestError(`the body is larger than ${maxRequestBytes} bytes`);
      body = await request.text();
      if (Buffer.byteLength(body) > maxRequestBytes) throw new BadRequestError(`the body is larger than ${maxRequestBytes} bytes`);
    }
    const credential = await issueTenantApiCredential({ tenantId: tenant.tenantId, forwardSecret: secrets.current, subject: `user:${session.user.login}` });
    const target = `${baseUrl.replace(/\/$/, '')}/api/${path}${new URL(request.url).search}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(target, {
        method,
        headers: { authorization: `Bearer ${credential}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new TenantUnavailableError(timedOut ? 504 : 502, timedOut ? `tenant ${tenant.tenantId} did not answer within ${timeoutMs} ms` : `tenant ${tenant.tenantId} could not be reached`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch (err) {
      throw new TenantUnavailableError(502, `tenant ${tenant.tenantId} answered ${res.status} without JSON`, { cause: err });
    }
    log.info({ tenantId: tenant.tenantId, login: session.user.login, method, path, status: res.status }, 'tenant API call');
    return { status: res.status, headers: { ...noStore }, jsonBody: json };
  }

  return async (request, context) => {
    try {
      return await proxy(request);
    } catch (err) {
      if (err instanceof NotProxiedError) return { status: 404, headers: { ...noStore }, jsonBody: { error: err.message } };
      if (err instanceof TenantUnavailableError) {
        log.warn({ err: { name: err.name, message: err.message } }, 'tenant API unavailable');
        return { status: err.status, headers: { ...noStore }, jsonBody: { error: err.message } };
      }
      return identityErrorResponse(err, context);
    }
  };
}
