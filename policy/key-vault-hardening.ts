/**
 * Every Key Vault: Azure RBAC (no access policies), purge protection, soft delete with a set
 * retention, and a firewall that denies by default while letting trusted Azure services through.
 */
import { validateResourceOfType, type ResourceValidationPolicy } from '@pulumi/policy';
import * as keyvault from '@pulumi/azure-native/keyvault/index.js';
import { checkSettings, type Requirement } from './settings-check.ts';

export const keyVaultRequirements: readonly Requirement[] = [
  { path: 'properties.enableRbacAuthorization', value: true, why: 'access through Azure RBAC role assignments only' },
  { path: 'properties.enablePurgeProtection', value: true, why: 'deleted secrets stay recoverable for the whole retention' },
  { path: 'properties.enableSoftDelete', value: true, why: 'deleted vaults and secrets can be recovered' },
  { path: 'properties.networkAcls.defaultAction', value: 'Deny', why: 'the data plane is closed unless a rule admits the caller' },
  { path: 'properties.networkAcls.bypass', value: 'AzureServices', why: 'trusted Azure services still reach the vault' },
];

export const keyVaultHardening: ResourceValidationPolicy = {
  name: 'zekt-key-vault-hardening',
  description: 'Key Vaults use RBAC, purge protection, soft delete with a retention, and deny network access by default.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(keyvault.Vault, (vault, args, report) => {
    const what = `key vault ${args.name}`;
    checkSettings(vault, keyVaultRequirements, what, report);
    const days = vault.properties?.softDeleteRetentionInDays;
    if (typeof days !== 'number' || days < 7 || days > 90) {
      report(`${what}: properties.softDeleteRetentionInDays must be set (7-90), is ${days === undefined ? 'unset' : JSON.stringify(days)}`);
    }
    if ((vault.properties?.accessPolicies ?? []).length > 0) report(`${what}: has access policies; grant access with role assignments`);
  }),
};
