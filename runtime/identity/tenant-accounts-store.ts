/**
 * `TenantAccounts` on the control plane: which GitHub account owns which tenant (the platform's
 * `accounts` table, two rows per pair so both directions are point reads and each is claimed by an
 * insert), and signup through the control plane's `enqueueProvisioning`. A tenant id already owned
 * by another account is never handed over: the new account gets the id with a numeric suffix. Nor
 * is one the registry already holds without an owner here (an operator's `zekt tenants create`):
 * signup creates the registry record itself, and an insert that meets an existing one gives the
 * claim back and refuses (`TenantIdTakenError`, 409) — or, for an id derived from the login, tries
 * the next suffix.
 */
import type { TableClient } from '@azure/data-tables';
import { enqueueDeprovisioning, enqueueProvisioning, type ControlPlaneClientDeps } from '../../automation/enqueue-provisioning.ts';
import { newRequestId, TenantExistsError, type TenantRecord } from '../../automation/tenant-registry.ts';
import { assertTenantId } from '../../tenant-stack/tenant-id.ts';
import type { TenantAccounts, TenantOwner, TenantView } from './tenant-accounts.ts';
import { TenantIdTakenError } from './identity-errors.ts';
import { customerReason } from './customer-reason.ts';
import { statusOf } from '../storage/status-of.ts';
import { messageAudienceOf } from '../tenant/messages/message-audience.ts';

type AccountEntity = { partitionKey: string; rowKey: string; tenantId?: string; ownerId?: number; login?: string; createdAt: string };

const byOwner = 'github-user';
const byTenant = 'tenant';

function isConflict(err: unknown): boolean {
  return statusOf(err) === 409;
}

/** What a signed-in user may see of their tenant: status, progress and public endpoints. */
export function tenantView(record: TenantRecord): TenantView {
  return {
    tenantId: record.tenantId,
    status: record.status,
    ...(record.progress
      ? { progress: { done: record.progress.done, total: record.progress.total, ...(record.progress.current ? { current: record.progress.current } : {}) } }
      : {}),
    ...(record.outputs && record.status === 'ready'
      ? {
          endpoints: {
            baseUrl: record.outputs.baseUrl,
            webhookUrl: record.outputs.webhookUrl,
            messagesUrl: record.outputs.messagesUrl,
            // What provider and consumer workflows put in the Zekt Action's `audience` input.
            oidcAudience: messageAudienceOf(record.tenantId),
          },
        }
      : {}),
    // A short, stable reason and the reference an operator looks up (`zekt tenants show`); never engine output.
    ...(record.lastError && record.status === 'failed' ? { lastError: customerReason(record.lastError) } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function createTenantAccountsStore(accounts: TableClient, controlPlane: ControlPlaneClientDeps, now: () => Date = () => new Date()): TenantAccounts {
  async function ownedTenant(ownerId: number): Promise<string | undefined> {
    try {
      return (await accounts.getEntity<AccountEntity>(byOwner, String(ownerId))).tenantId;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Claims a tenant id for `owner` (the `tenant` row, then the registry record, both inserts). An
   * id the registry already holds for nobody here is given back: refused when it was asked for,
   * the next suffix when it came from the login.
   */
  async function claimTenantId(owner: TenantOwner, wanted: string, asked: boolean): Promise<string> {
    for (let n = 1; n <= 20; n++) {
      const candidate = n === 1 ? wanted : `${wanted.slice(0, 29)}-${n}`;
      assertTenantId(candidate);
      try {
        await accounts.createEntity<AccountEntity>({ partitionKey: byTenant, rowKey: candidate, ownerId: owner.id, login: owner.login, createdAt: now().toISOString() });
      } catch (err) {
        if (!isConflict(err)) throw err;
        const holder = await accounts.getEntity<AccountEntity>(byTenant, candidate);
        // Ours from an earlier, interrupted signup: its registry record (if any) is ours too.
        if (Number(holder.ownerId) === owner.id) return candidate;
        continue;
      }
      try {
        await controlPlane.registry.create(candidate, { requestId: newRequestId() });
        return candidate;
      } catch (err) {
        await accounts.deleteEntity(byTenant, candidate).catch(() => undefined);
        if (!(err instanceof TenantExistsError)) throw err;
        if (asked) throw new TenantIdTakenError(`tenant id ${candidate} is taken; choose another`, { cause: err });
      }
    }
    throw new TenantIdTakenError(`no free tenant id near ${wanted}; choose another`);
  }

  return {
    async forOwner(githubUserId) {
      const tenantId = await ownedTenant(githubUserId);
      if (!tenantId) return undefined;
      const record = await controlPlane.registry.get(tenantId);
      return record ? tenantView(record) : undefined;
    },
    async signup(owner, wanted, asked = false) {
      const existing = await ownedTenant(owner.id);
      const tenantId = existing ?? (await claimTenantId(owner, wanted, asked));
      if (!existing) {
        try {
          await accounts.createEntity<AccountEntity>({ partitionKey: byOwner, rowKey: String(owner.id), tenantId, login: owner.login, createdAt: now().toISOString() });
        } catch (err) {
          if (!isConflict(err)) throw err;
          // A concurrent signup of the same account won; release our claim (unless it is theirs too).
          const winner = await ownedTenant(owner.id);
          if (winner !== tenantId) await accounts.deleteEntity(byTenant, tenantId).catch(() => undefined);
          const { record } = await enqueueProvisioning(controlPlane, winner as string);
          return tenantView(record);
        }
      }
      const { record } = await enqueueProvisioning(controlPlane, tenantId);
      return tenantView(record);
    },
    async offboard(githubUserId) {
      const tenantId = await ownedTenant(githubUserId);
      if (!tenantId) return undefined;
      const { record } = await enqueueDeprovisioning(controlPlane, tenantId);
      return tenantView(record);
    },
  };
}
