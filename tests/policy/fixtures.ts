/**
 * Hand-made resource inputs that satisfy the policy pack, one per resource type; each test breaks
 * one setting of a copy (`withSetting`).
 */
import { documentedRoleIds } from '../support/documented-role-ids.ts';

export const sub = '/subscriptions/6f0c8a52-3d6c-4c36-9a3e-1d1b6f1e2a10';
export const group = `${sub}/resourceGroups/rg-zekt-acme`;
export const accountId = `${group}/providers/Microsoft.Storage/storageAccounts/ztacme1a2b3c4d`;
export const roleId = (guid: string): string => `${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
export const managedBy = { 'zekt:managed-by': 'zekt-control-plane', 'zekt:tenant': 'acme' };

export const storageAccount = (): Record<string, unknown> => ({
  accountName: 'ztacme1a2b3c4d',
  kind: 'StorageV2',
  minimumTlsVersion: 'TLS1_2',
  enableHttpsTrafficOnly: true,
  allowBlobPublicAccess: false,
  allowSharedKeyAccess: false,
  allowCrossTenantReplication: false,
  allowedCopyScope: 'AAD',
  encryption: { requireInfrastructureEncryption: true, keySource: 'Microsoft.Storage' },
  tags: managedBy,
});

export const vault = (): Record<string, unknown> => ({
  vaultName: 'kvacme-0123456789ab',
  properties: {
    tenantId: '2b7e1a9c-5d4f-4e8a-b1c3-9f8e7d6c5b4a',
    sku: { family: 'A', name: 'standard' },
    enableRbacAuthorization: true,
    enablePurgeProtection: true,
    enableSoftDelete: true,
    softDeleteRetentionInDays: 90,
    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [] },
  },
  tags: managedBy,
});

export const functionApp = (): Record<string, unknown> => ({
  name: 'func-zekt-acme-1a2b3c4d',
  kind: 'functionapp,linux',
  httpsOnly: true,
  identity: { type: 'UserAssigned', userAssignedIdentities: [`${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-zekt-acme`] },
  siteConfig: {
    minTlsVersion: '1.2',
    scmMinTlsVersion: '1.2',
    ftpsState: 'Disabled',
    appSettings: [
      { name: 'AzureWebJobsStorage__accountName', value: 'ztacme1a2b3c4d' },
      { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' },
      { name: 'AzureWebJobsStorage__clientId', value: '0e5c7a1b-1111-4222-8333-444455556666' },
      { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=0e5c7a1b-1111-4222-8333-444455556666' },
    ],
  },
  functionAppConfig: {
    deployment: { storage: { type: 'blobContainer', value: 'https://ztacme1a2b3c4d.blob.core.windows.net/deployment-package', authentication: { type: 'UserAssignedIdentity' } } },
    runtime: { name: 'node', version: '22' },
  },
  tags: managedBy,
});

export const roleAssignment = (role: string, scope: string): Record<string, unknown> => ({
  roleAssignmentName: '5d9c7a1e-2f3b-5c4d-8e9f-0a1b2c3d4e5f',
  principalId: '0e5c7a1b-1111-4222-8333-444455556666',
  principalType: 'ServicePrincipal',
  roleDefinitionId: roleId(role),
  scope,
});

export const tenantBlobOwner = (): Record<string, unknown> => roleAssignment(documentedRoleIds.storageBlobDataOwner, accountId);

/** Well-known ids of broad built-in roles Zekt never assigns. */
export const owner = documentedRoleIds.owner;
export const contributor = documentedRoleIds.contributor;
