/**
 * Deterministic, collision-free resource names for one tenant, within Azure's naming rules
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules):
 * storage accounts 3–24 lowercase letters and digits, globally unique; Key Vaults 3–24 letters,
 * digits and hyphens, globally unique, and a soft-deleted vault keeps its name reserved for its
 * retention period, so the vault name also carries the tenant's creation id.
 * Ids that differ only in hyphens (`acme-1`, `acme1`) still get different names: every name ends
 * with a hash of the full id.
 */
import { createHash } from 'node:crypto';
import { assertTenantId } from './tenant-id.ts';

export interface TenantResourceNames {
  readonly resourceGroup: string;
  readonly storageAccount: string;
  readonly keyVault: string;
  readonly functionApp: string;
  readonly appServicePlan: string;
  readonly identity: string;
  readonly appInsights: string;
  readonly deploymentContainer: string;
}

function hash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * @param creationId a short random id fixed when the tenant is first created (kept in the
 *   registry), so a re-created tenant gets a fresh vault name.
 */
export function tenantResourceNames(tenantId: string, creationId: string): TenantResourceNames {
  assertTenantId(tenantId);
  if (!/^[a-z0-9]{4,12}$/.test(creationId)) throw new Error(`invalid creation id ${JSON.stringify(creationId)}`);
  const compact = tenantId.replace(/-/g, '');
  const idHash = hash(tenantId, 8);
  return {
    resourceGroup: `rg-zekt-${tenantId}`,
    // 'zt' + up to 14 + 8 hash = at most 24.
    storageAccount: `zt${compact.slice(0, 14)}${idHash}`,
    // 'kv' + up to 8 + '-' + 12 hash of id and creation = at most 23.
    keyVault: `kv${compact.slice(0, 8)}-${hash(`${tenantId}/${creationId}`, 12)}`,
    functionApp: `func-zekt-${tenantId}-${idHash}`,
    appServicePlan: `plan-zekt-${tenantId}`,
    identity: `id-zekt-${tenantId}`,
    appInsights: `appi-zekt-${tenantId}`,
    deploymentContainer: 'deployment-package',
  };
}
