/**
 * Every storage account: StorageV2, HTTPS and TLS 1.2 only, no public blobs, no shared keys
 * (identities only), infrastructure encryption, no cross-tenant replication or copies.
 */
import { validateResourceOfType, type ResourceValidationPolicy } from '@pulumi/policy';
import * as storage from '@pulumi/azure-native/storage/index.js';
import { checkSettings, type Requirement } from './settings-check.ts';

export const storageAccountRequirements: readonly Requirement[] = [
  { path: 'kind', value: 'StorageV2', why: 'the general-purpose v2 account the hardening settings apply to' },
  { path: 'minimumTlsVersion', value: 'TLS1_2', why: 'older TLS versions are broken' },
  { path: 'enableHttpsTrafficOnly', value: true, why: 'no plain-HTTP data access' },
  { path: 'allowBlobPublicAccess', value: false, why: 'no anonymous reads of any container' },
  { path: 'allowSharedKeyAccess', value: false, why: 'only Entra identities, never account keys or key-signed SAS' },
  { path: 'encryption.requireInfrastructureEncryption', value: true, why: 'a second encryption layer, only choosable at creation' },
  { path: 'allowCrossTenantReplication', value: false, why: 'no object replication to another Entra tenant' },
  { path: 'allowedCopyScope', value: 'AAD', why: 'copies only within the Entra tenant' },
];

export const storageAccountHardening: ResourceValidationPolicy = {
  name: 'zekt-storage-account-hardening',
  description: 'Storage accounts are StorageV2, HTTPS/TLS 1.2 only, identity-only, without public blobs, with infrastructure encryption.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(storage.StorageAccount, (account, args, report) => {
    checkSettings(account, storageAccountRequirements, `storage account ${args.name}`, report);
  }),
};
