/**
 * One way to grant a role: to a service principal (managed identity), at an explicit scope, with
 * a built-in role from `role-definitions.ts` and a deterministic assignment name.
 */
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { roleDefinitionId, type BuiltInRole } from './role-definitions.ts';

export interface RoleGrant {
  readonly role: BuiltInRole;
  /** Object (principal) id of the managed identity. */
  readonly principalId: pulumi.Input<string>;
  /** ARM id of the resource (or sub-resource: a container, queue, table, secret or key) granted. */
  readonly scope: pulumi.Input<string>;
  readonly subscriptionId: pulumi.Input<string>;
  readonly description: string;
  /** An ABAC condition (version 2.0) narrowing the grant further. */
  readonly condition?: pulumi.Input<string>;
}

/**
 * Role assignment names are GUIDs unique in the Entra tenant. A name derived from the logical name
 * and a seed (tenant and creation id) is stable across `up`s and state loss, so a re-run finds the
 * same assignment instead of failing with `RoleAssignmentExists`:
 * https://learn.microsoft.com/azure/role-based-access-control/role-assignments-template#create-a-role-assignment
 */
export function roleAssignmentGuid(seed: string, name: string): string {
  const hex = createHash('sha256').update(`${seed}/${name}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function grantRole(
  name: string,
  seed: string,
  grant: RoleGrant,
  opts: pulumi.CustomResourceOptions,
): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      roleAssignmentName: roleAssignmentGuid(seed, name),
      principalId: grant.principalId,
      // Without it ARM looks the principal up in Entra, which fails for a just-created identity:
      // https://learn.microsoft.com/azure/role-based-access-control/role-assignments-template#new-service-principal
      principalType: 'ServicePrincipal',
      roleDefinitionId: pulumi.output(grant.subscriptionId).apply((sub) => roleDefinitionId(sub, grant.role)),
      scope: grant.scope,
      description: grant.description,
      ...(grant.condition ? { condition: grant.condition, conditionVersion: '2.0' } : {}),
    },
    opts,
  );
}
