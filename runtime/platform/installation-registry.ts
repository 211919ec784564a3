/**
 * The installations of the Zekt GitHub App, in the platform's `installations` table: the account
 * and repositories GitHub told us about (kept current by `installation` and
 * `installation_repositories` webhooks) and the tenant each one is bound to. An installation
 * belongs to at most one tenant; binding is an ETag-guarded write, so two tenants racing for one
 * installation cannot both win. The row also keeps who installed the App (the `sender` of
 * `installation.created`) and who bound it, which the setup URL needs to decide whether a
 * signed-in user may bind the installation or reclaim it from a holder who should not have it.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { statusOf } from '../storage/status-of.ts';

export interface InstallationRepository {
  readonly id: number;
  readonly fullName: string;
}

/** A GitHub user, as the registry remembers one. */
export interface GitHubUserRef {
  readonly id: number;
  readonly login: string;
}

export interface Installation {
  readonly installationId: number;
  readonly accountLogin?: string;
  readonly accountId?: number;
  readonly accountType?: string;
  readonly repositories: readonly InstallationRepository[];
  readonly tenantId?: string;
  readonly boundAt?: string;
  /** The user who installed the App: the `sender` of `installation.created`. */
  readonly installer?: GitHubUserRef;
  /** The signed-in user whose setup visit bound the installation (absent on rows bound before it was recorded). */
  readonly boundBy?: GitHubUserRef;
  /** The last reclaim: the tenant that lost the installation, who took it and when. */
  readonly reclaimed?: { readonly fromTenantId: string; readonly by: GitHubUserRef; readonly at: string };
  readonly suspended: boolean;
  /** GitHub told us the App was uninstalled. */
  readonly deleted: boolean;
  readonly updatedAt: string;
}

/** Another tenant already holds this installation. → 409 at the edge */
export class InstallationClaimedError extends Error {
  override name = 'InstallationClaimedError';
}

type InstallationEntity = {
  partitionKey: string;
  rowKey: string;
  accountLogin?: string;
  accountId?: number;
  accountType?: string;
  repositories: string;
  tenantId?: string;
  boundAt?: string;
  installerId?: number;
  installerLogin?: string;
  boundById?: number;
  boundByLogin?: string;
  /** JSON of `Installation.reclaimed`. */
  reclaimed?: string;
  suspended: boolean;
  deleted: boolean;
  updatedAt: string;
};

const partition = 'installation';

interface GitHubAccount {
  login?: string;
  id?: number;
  type?: string;
}
interface GitHubRepo {
  id: number;
  full_name: string;
}
export interface InstallationEventPayload {
  action?: string;
  installation?: { id?: number; account?: GitHubAccount | null };
  sender?: GitHubAccount | null;
  repositories?: GitHubRepo[];
  repositories_added?: GitHubRepo[];
  repositories_removed?: GitHubRepo[];
}

export interface InstallationRegistry {
  get(installationId: number): Promise<Installation | undefined>;
  /** The tenant an installation is bound to, if any (uninstalled ones are bound to none). */
  tenantOf(installationId: number): Promise<string | undefined>;
  /** Applies an `installation` / `installation_repositories` webhook. */
  applyEvent(event: string, payload: InstallationEventPayload, now: Date): Promise<void>;
  /**
   * Binds an installation to a tenant. Idempotent for the same tenant; another tenant →
   * `InstallationClaimedError`, unless `reclaimFrom` names that holder (the caller has shown the
   * holder is not entitled to it): then the binding moves, and the row records the reclaim. Call
   * only after the signed-in user was shown entitled to administer the installation.
   */
  bind(
    installationId: number,
    tenantId: string,
    details: Partial<Pick<Installation, 'accountLogin' | 'accountId' | 'accountType' | 'repositories'>> & { readonly boundBy?: GitHubUserRef },
    now: Date,
    options?: { readonly reclaimFrom?: string },
  ): Promise<Installation>;
  listForTenant(tenantId: string): Promise<Installation[]>;
}

function fromEntity(e: InstallationEntity): Installation {
  return {
    installationId: Number(e.rowKey),
    ...(e.accountLogin ? { accountLogin: e.accountLogin } : {}),
    ...(e.accountId !== undefined && e.accountId !== null ? { accountId: Number(e.accountId) } : {}),
    ...(e.accountType ? { accountType: e.accountType } : {}),
    repositories: JSON.parse(e.repositories || '[]') as InstallationRepository[],
    ...(e.tenantId ? { tenantId: e.tenantId } : {}),
    ...(e.boundAt ? { boundAt: e.boundAt } : {}),
    ...(e.installerId !== undefined && e.installerId !== null && e.installerLogin ? { installer: { id: Number(e.installerId), login: e.installerLogin } } : {}),
    ...(e.boundById !== undefined && e.boundById !== null && e.boundByLogin ? { boundBy: { id: Number(e.boundById), login: e.boundByLogin } } : {}),
    ...(e.reclaimed ? { reclaimed: JSON.parse(e.reclaimed) as NonNullable<Installation['reclaimed']> } : {}),
    suspended: Boolean(e.suspended),
    deleted: Boolean(e.deleted),
    updatedAt: e.updatedAt,
  };
}

function toEntity(i: Installation): InstallationEntity {
  const e: InstallationEntity = {
    partitionKey: partition,
    rowKey: String(i.installationId),
    repositories: JSON.stringify(i.repositories),
    suspended: i.suspended,
    deleted: i.deleted,
    updatedAt: i.updatedAt,
  };
  if (i.accountLogin) e.accountLogin = i.accountLogin;
  if (i.accountId !== undefined) e.accountId = i.accountId;
  if (i.accountType) e.accountType = i.accountType;
  if (i.tenantId) e.tenantId = i.tenantId;
  if (i.boundAt) e.boundAt = i.boundAt;
  if (i.installer) {
    e.installerId = i.installer.id;
    e.installerLogin = i.installer.login;
  }
  if (i.boundBy) {
    e.boundById = i.boundBy.id;
    e.boundByLogin = i.boundBy.login;
  }
  if (i.reclaimed) e.reclaimed = JSON.stringify(i.reclaimed);
  return e;
}

const repo = (r: GitHubRepo): InstallationRepository => ({ id: r.id, fullName: r.full_name });

export function createInstallationRegistry(table: TableClient): InstallationRegistry {
  async function read(installationId: number): Promise<{ value: Installation; etag: string } | undefined> {
    try {
      const e = await table.getEntity<InstallationEntity>(partition, String(installationId));
      return { value: fromEntity(e), etag: e.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Read-modify-write with ETag, retried on a concurrent change. */
  async function change(installationId: number, fn: (current: Installation | undefined) => Installation): Promise<Installation> {
    for (let attempt = 0; ; attempt++) {
      const current = await read(installationId);
      const next = fn(current?.value);
      try {
        if (current) await table.updateEntity(toEntity(next), 'Replace', { etag: current.etag });
        else await table.createEntity(toEntity(next));
        return next;
      } catch (err) {
        const status = statusOf(err);
        if ((status === 412 || status === 409) && attempt < 5) continue;
        throw err;
      }
    }
  }

  const blank = (installationId: number, now: Date): Installation => ({
    installationId,
    repositories: [],
    suspended: false,
    deleted: false,
    updatedAt: now.toISOString(),
  });

  return {
    async get(installationId) {
      return (await read(installationId))?.value;
    },
    async tenantOf(installationId) {
      const found = (await read(installationId))?.value;
      return found && !found.deleted ? found.tenantId : undefined;
    },
    async applyEvent(event, payload, now) {
      const id = payload.installation?.id;
      if (typeof id !== 'number') return;
      const account = payload.installation?.account ?? undefined;
      await change(id, (current) => {
        const base = current ?? blank(id, now);
        const withAccount: Installation = {
          ...base,
          ...(account?.login ? { accountLogin: account.login } : {}),
          ...(typeof account?.id === 'number' ? { accountId: account.id } : {}),
          ...(account?.type ? { accountType: account.type } : {}),
          updatedAt: now.toISOString(),
        };
        if (event === 'installation') {
          switch (payload.action) {
            case 'created': {
              // GitHub names the user who installed the App as the sender of `installation.created`.
              const sender = payload.sender;
              const installer = sender && typeof sender.id === 'number' && sender.login && sender.type !== 'Bot' ? { id: sender.id, login: sender.login } : undefined;
              return {
                ...withAccount,
                ...(installer ? { installer } : {}),
                deleted: false,
                repositories: (payload.repositories ?? base.repositories.map((r) => ({ id: r.id, full_name: r.fullName }))).map(repo),
              };
            }
            case 'new_permissions_accepted':
              return { ...withAccount, deleted: false, repositories: (payload.repositories ?? base.repositories.map((r) => ({ id: r.id, full_name: r.fullName }))).map(repo) };
            case 'deleted': {
              // Uninstalled: the binding ends; the tenant keeps nothing of it.
              const { tenantId: _t, boundAt: _b, boundBy: _by, ...unbound } = withAccount;
              return { ...unbound, deleted: true, repositories: [] };
            }
            case 'suspend':
              return { ...withAccount, suspended: true };
            case 'unsuspend':
              return { ...withAccount, suspended: false };
            default:
              return withAccount;
          }
        }
        if (event === 'installation_repositories') {
          const removed = new Set((payload.repositories_removed ?? []).map((r) => r.id));
          const kept = base.repositories.filter((r) => !removed.has(r.id));
          const added = (payload.repositories_added ?? []).map(repo).filter((r) => !kept.some((k) => k.id === r.id));
          return { ...withAccount, repositories: [...kept, ...added] };
        }
        return withAccount;
      });
    },
    async bind(installationId, tenantId, details, now, options = {}) {
      return change(installationId, (current) => {
        const base = current ?? blank(installationId, now);
        const holder = base.deleted ? undefined : base.tenantId;
        const reclaiming = holder !== undefined && holder !== tenantId && holder === options.reclaimFrom;
        if (holder && holder !== tenantId && !reclaiming) {
          throw new InstallationClaimedError(`installation ${installationId} is bound to another tenant`);
        }
        if (holder === tenantId) return base;
        const { boundBy, ...rest } = details;
        return {
          ...base,
          ...rest,
          ...(boundBy ? { boundBy } : {}),
          ...(reclaiming && boundBy ? { reclaimed: { fromTenantId: holder, by: boundBy, at: now.toISOString() } } : {}),
          repositories: details.repositories ?? base.repositories,
          tenantId,
          boundAt: now.toISOString(),
          deleted: false,
          updatedAt: now.toISOString(),
        };
      });
    },
    async listForTenant(tenantId) {
      const out: Installation[] = [];
      for await (const e of table.listEntities<InstallationEntity>({
        queryOptions: { filter: odata`PartitionKey eq ${partition} and tenantId eq ${tenantId}` },
      })) {
        const i = fromEntity(e);
        if (!i.deleted) out.push(i);
      }
      return out;
    },
  };
}
