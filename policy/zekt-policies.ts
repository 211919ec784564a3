/** Every policy of the pack, in one list (the pack, the docs and the tests read it). */
import type { Policies } from '@pulumi/policy';
import { functionAppBasicAuthOff, functionAppHardening } from './function-app-hardening.ts';
import { keyVaultHardening } from './key-vault-hardening.ts';
import { allowedRoleDefinitions, customRolePermissions, noBroadRoleAssignments, roleAssignmentPrincipalType } from './role-assignments.ts';
import { storageAccountHardening } from './storage-account-hardening.ts';
import { consistentTenantTag, requiredTags } from './tags.ts';

export const zektPolicies: Policies = [
  storageAccountHardening,
  keyVaultHardening,
  functionAppHardening,
  functionAppBasicAuthOff,
  allowedRoleDefinitions,
  noBroadRoleAssignments,
  roleAssignmentPrincipalType,
  customRolePermissions,
  requiredTags,
  consistentTenantTag,
];
