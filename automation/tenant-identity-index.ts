/**
 * The registry's index from a tenant runtime's identity to its tenant, so the token broker finds
 * its caller with one point read instead of a scan of every tenant. One row per identity id (the
 * local client id and the Azure principal id), partition `identity` of the tenants table, written
 * whenever a tenant record with outputs becomes ready or changes them. A stale row is harmless:
 * the lookup reads the tenant it names and checks that its outputs still carry that identity.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../runtime/storage/status-of.ts';
import type { TenantStackOutputs } from '../tenant-stack/tenant-outputs.ts';

const partition = 'identity';

/** The ids a tenant's runtime authenticates with (row keys: no `/ \ # ?`, which ids never hold). */
export function identityIdsOf(outputs: TenantStackOutputs | undefined): string[] {
  return [outputs?.identityClientId, outputs?.identityPrincipalId].filter((id): id is string => typeof id === 'string' && /^[^/\\#?]{1,200}$/.test(id));
}

export function createTenantIdentityIndex(table: TableClient) {
  return {
    async record(tenantId: string, outputs: TenantStackOutputs | undefined): Promise<void> {
      await Promise.all(identityIdsOf(outputs).map((id) => table.upsertEntity({ partitionKey: partition, rowKey: id, tenantId }, 'Replace')));
    },
    async tenantOf(identityId: string): Promise<string | undefined> {
      if (!/^[^/\\#?]{1,200}$/.test(identityId)) return undefined;
      try {
        return (await table.getEntity<{ tenantId: string }>(partition, identityId)).tenantId;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}
