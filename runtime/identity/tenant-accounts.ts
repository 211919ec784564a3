/**
 * What identity needs from the control plane: the tenant a GitHub account owns, and signup
 * (create as `requested` and enqueue provisioning — idempotent per account). The control plane's
 * tenant registry implements it (see `automation/`); identity depends only on this shape.
 */
import type { CustomerReason } from './customer-reason.ts';

export interface TenantView {
  readonly tenantId: string;
  readonly status: string;
  readonly progress?: { readonly done: number; readonly total: number; readonly current?: string };
  /** Public endpoints once provisioned; never a secret. */
  readonly endpoints?: {
    readonly baseUrl: string;
    readonly webhookUrl: string;
    /** Where the Zekt Action posts and fetches messages. */
    readonly messagesUrl: string;
    /** The OIDC audience the Zekt Action asks GitHub for (`zekt:<tenantId>`). */
    readonly oidcAudience: string;
  };
  /** Why provisioning failed, for the customer: a stable reason code, its text and a reference. */
  readonly lastError?: CustomerReason;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export interface TenantOwner {
  readonly id: number;
  readonly login: string;
}

export interface TenantAccounts {
  forOwner(githubUserId: number): Promise<TenantView | undefined>;
  /**
   * Returns the account's tenant, creating it (and enqueueing provisioning) the first time.
   * `asked`: the id came from the customer (a registered id is then refused, not suffixed).
   */
  signup(owner: TenantOwner, tenantId: string, asked?: boolean): Promise<TenantView>;
  /** Asks the control plane to destroy the account's tenant; undefined when it has none. */
  offboard(githubUserId: number): Promise<TenantView | undefined>;
}

/**
 * A tenant id from a GitHub login: lowercase, other characters to single hyphens, a letter first,
 * at most 32 characters (the rules of tenant-stack/tenant-id.ts).
 */
export function tenantIdForLogin(login: string): string {
  let id = login.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(id)) id = `t-${id}`;
  id = id.slice(0, 32).replace(/-+$/, '');
  while (id.length < 3) id += '0';
  return id;
}
