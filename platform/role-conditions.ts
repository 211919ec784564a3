/**
 * Azure ABAC conditions (version 2.0) that narrow two of the platform's grants:
 * - constrained delegation: the provisioning worker may create or delete role assignments only
 *   for the roles a tenant stack assigns, and only to service principals
 *   (https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples#example-constrain-roles);
 * - a container exclusion: the ingress's blob grant on the control-plane account does not reach
 *   the Pulumi state container
 *   (https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac-examples#example-read-write-or-delete-blobs-in-named-containers).
 */
import { builtInRoles, type BuiltInRole } from '../tenant-stack/azure/role-definitions.ts';

/** Role assignment writes and deletes limited to `roles`, writes limited to service principals. */
export function constrainedDelegationCondition(roles: readonly BuiltInRole[]): string {
  const guids = roles.map((role) => builtInRoles[role]).join(', ');
  return [
    '(',
    ' (',
    "  !(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})",
    ' )',
    ' OR',
    ' (',
    `  @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${guids}}`,
    '  AND',
    "  @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}",
    ' )',
    ')',
    'AND',
    '(',
    ' (',
    "  !(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})",
    ' )',
    ' OR',
    ' (',
    `  @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${guids}}`,
    ' )',
    ')',
  ].join('\n');
}

/** The role GUIDs a constrained-delegation condition allows (for the policy pack and tests). */
export function delegatedRoleGuids(condition: string): string[] | undefined {
  const lists = [...condition.matchAll(/RoleDefinitionId\]\s+ForAnyOfAnyValues:GuidEquals\s+\{([^}]*)\}/g)].map((m) =>
    (m[1] ?? '').split(',').map((g) => g.trim().toLowerCase()).filter(Boolean),
  );
  const writes = /ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/write'\}/.test(condition);
  if (!writes || lists.length === 0) return undefined;
  // Every list must be the same set; a condition that allows more somewhere allows more.
  return [...new Set(lists.flat())].sort();
}

/** Blob data actions a Storage Blob Data Owner holds, denied inside `container`. */
const blobActions = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/runAsSuperUser/action',
];

export function excludeContainerCondition(container: string): string {
  return [
    '(',
    ' (',
    blobActions.map((action) => `  !(ActionMatches{'${action}'})`).join('\n  AND\n'),
    ' )',
    ' OR',
    ' (',
    `  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals '${container}'`,
    ' )',
    ')',
  ].join('\n');
}
