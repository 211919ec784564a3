/**
 * The hardening every Zekt storage account, vault and Functions app must have, as `path = value`
 * pairs on the resource inputs. Both programs are checked against the same lists.
 */
export type Expectation = readonly [path: string, value: unknown];

export const storageHardening: readonly Expectation[] = [
  ['kind', 'StorageV2'],
  ['minimumTlsVersion', 'TLS1_2'],
  ['enableHttpsTrafficOnly', true],
  ['allowBlobPublicAccess', false],
  ['allowSharedKeyAccess', false],
  ['encryption.requireInfrastructureEncryption', true],
  ['allowCrossTenantReplication', false],
  ['allowedCopyScope', 'AAD'],
  ['isLocalUserEnabled', false],
  ['isSftpEnabled', false],
];

export const vaultHardening: readonly Expectation[] = [
  ['properties.enableRbacAuthorization', true],
  ['properties.enablePurgeProtection', true],
  ['properties.enableSoftDelete', true],
  ['properties.softDeleteRetentionInDays', 90],
  ['properties.networkAcls.defaultAction', 'Deny'],
  ['properties.networkAcls.bypass', 'AzureServices'],
  ['properties.enabledForDeployment', false],
  ['properties.enabledForTemplateDeployment', false],
  ['properties.enabledForDiskEncryption', false],
];

export const functionAppHardening: readonly Expectation[] = [
  ['kind', 'functionapp,linux'],
  ['httpsOnly', true],
  ['siteConfig.minTlsVersion', '1.2'],
  ['siteConfig.scmMinTlsVersion', '1.2'],
  ['siteConfig.ftpsState', 'Disabled'],
  ['siteConfig.remoteDebuggingEnabled', false],
  ['identity.type', 'UserAssigned'],
  ['functionAppConfig.runtime.name', 'node'],
  ['functionAppConfig.runtime.version', '22'],
  ['functionAppConfig.deployment.storage.type', 'blobContainer'],
  ['functionAppConfig.deployment.storage.authentication.type', 'UserAssignedIdentity'],
];

export const flexPlan: readonly Expectation[] = [
  ['sku.name', 'FC1'],
  ['sku.tier', 'FlexConsumption'],
  ['reserved', true],
];
