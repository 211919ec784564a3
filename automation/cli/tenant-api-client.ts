/**
 * The operator CLI's way into one tenant runtime's API (`GET /api/events`, `/api/deliveries`,
 * `/api/subscriptions`, …): the same door the platform's owner proxy uses
 * (runtime/identity/tenant-api-proxy.ts). The tenant's base URL comes from the tenant registry
 * (its provisioning outputs); each call carries a fresh 60 s credential (subject `operator`)
 * derived from the tenant's forward-signing secret, read where the platform reads it. The
 * credential never leaves this process and is never printed.
 */
import { issueTenantApiCredential } from '../../runtime/tenant/tenant-api-credential.ts';
import type { TenantRecord, TenantRegistry } from '../tenant-registry.ts';

/** The tenant exists but its runtime cannot be asked now (not ready, no secret, unreachable). */
export class TenantApiUnavailableError extends Error {
  override name = 'TenantApiUnavailableError';
}

/** The tenant runtime answered with an error status; `message` is its own `error` text. */
export class TenantApiError extends Error {
  override name = 'TenantApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TenantApiClientOptions {
  readonly registry: Pick<TenantRegistry, 'require'>;
  /** The tenant's current forward-signing secret: the platform vault, else the tenant's own vault. */
  readonly forwardSecret: (record: TenantRecord) => Promise<string | undefined>;
  /** Per call, in ms (10 s by default, as the owner proxy). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface TenantApiCall {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
}

export function createTenantApiClient(options: TenantApiClientOptions) {
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call<T>(tenantId: string, method: 'GET' | 'POST', path: string, input: TenantApiCall = {}): Promise<T> {
    // TenantNotFoundError from the registry passes through: the command maps it to its exit code.
    const record = await options.registry.require(tenantId);
    const baseUrl = record.status === 'ready' ? record.outputs?.baseUrl : undefined;
    if (!baseUrl) throw new TenantApiUnavailableError(`tenant ${tenantId} is ${record.status}, not ready (see \`zekt tenants show ${tenantId}\`)`);
    const secret = await options.forwardSecret(record);
    if (!secret) throw new TenantApiUnavailableError(`no forward-signing secret found for tenant ${tenantId}`);
    const credential = await issueTenantApiCredential({ tenantId, forwardSecret: secret, subject: 'operator' });
    const url = new URL(`${baseUrl.replace(/\/$/, '')}/api/${path}`);
    for (const [key, value] of Object.entries(input.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(url, {
        method,
        headers: { authorization: `Bearer ${credential}`, accept: 'application/json', ...(input.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(input.body !== undefined ? { body: JSON.stringify(input.body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      throw new TenantApiUnavailableError(`tenant ${tenantId} could not be reached at ${baseUrl}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch (err) {
      throw new TenantApiUnavailableError(`tenant ${tenantId} answered ${res.status} without JSON`, { cause: err });
    }
    if (!res.ok) throw new TenantApiError(res.status, String((json as { error?: unknown }).error ?? `the tenant runtime answered ${res.status}`));
    return json as T;
  }

  return {
    get: <T>(tenantId: string, path: string, query?: TenantApiCall['query']) => call<T>(tenantId, 'GET', path, query ? { query } : {}),
    post: <T>(tenantId: string, path: string, body?: unknown) => call<T>(tenantId, 'POST', path, body !== undefined ? { body } : {}),
  };
}

export type TenantApiClient = ReturnType<typeof createTenantApiClient>;
