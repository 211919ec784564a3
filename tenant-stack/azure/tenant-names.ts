/**
 * The Azure-only names of a tenant compartment, on top of the shared `tenantResourceNames`
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules):
 * virtual networks 2–64 and Log Analytics workspaces 4–63 letters, digits and hyphens, unique
 * within the tenant's own resource group.
 */
import { tenantResourceNames, type TenantResourceNames } from '../resource-names.ts';

export interface AzureTenantResourceNames extends TenantResourceNames {
  readonly virtualNetwork: string;
  readonly functionsSubnet: string;
  readonly logAnalyticsWorkspace: string;
}

export function azureTenantResourceNames(tenantId: string, creationId: string): AzureTenantResourceNames {
  return {
    ...tenantResourceNames(tenantId, creationId),
    virtualNetwork: `vnet-zekt-${tenantId}`,
    functionsSubnet: 'functions',
    logAnalyticsWorkspace: `log-zekt-${tenantId}`,
  };
}
