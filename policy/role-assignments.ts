/**
 * Role assignments: only Zekt's roles (or a custom role this stack defines, itself checked), only
 * to service principals, and never over a subscription, resource group or management group —
 * except the provisioning worker's assignment, whose constrained-delegation condition lets it hand
 * out nothing but the tenant roles.
 */
import {
  validateResourceOfType,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from '@pulumi/policy';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { delegatedRoleGuids } from '../platform/role-conditions.ts';
import {
  builtInRoleOf,
  builtInRoles,
  roleGuidOf,
  tenantAssignableRoles,
  zektAssignableRoles,
} from '../tenant-stack/azure/role-definitions.ts';
import { isBroadScope } from './resource-types.ts';

/**
 * Privileged built-in roles, never acceptable over a broad scope whatever the condition:
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged
 */
const privilegedBuiltInRoles: Readonly<Record<string, string>> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': 'Role Based Access Control Administrator',
};

const zektRoleGuids = new Set<string>(zektAssignableRoles.map((role) => builtInRoles[role]));
const tenantRoleGuids = new Set<string>(tenantAssignableRoles.map((role) => builtInRoles[role]));

export const roleAssignmentPrincipalType: ResourceValidationPolicy = {
  name: 'zekt-role-assignment-principal-type',
  description: 'Role assignments name a service principal (managed identity), with principalType set.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, args, report) => {
    if (assignment.principalType !== 'ServicePrincipal') {
      report(`role assignment ${args.name}: principalType must be "ServicePrincipal" (is ${JSON.stringify(assignment.principalType)})`);
    }
  }),
};

export const noBroadRoleAssignments: ResourceValidationPolicy = {
  name: 'zekt-no-broad-role-assignments',
  description: 'No role assignment over a subscription, resource group or management group, unless constrained to delegating tenant roles.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, args, report) => {
    const scope = String(assignment.scope);
    if (!isBroadScope(scope)) return;
    const what = `role assignment ${args.name} at ${scope === '' ? '/' : scope}`;
    const builtIn = builtInRoleOf(String(assignment.roleDefinitionId)) ?? privilegedBuiltInRoles[roleGuidOf(String(assignment.roleDefinitionId))];
    if (builtIn) {
      report(`${what}: ${builtIn} reaches every resource beneath this scope; assign it on a single resource`);
      return;
    }
    const delegated = assignment.condition ? delegatedRoleGuids(String(assignment.condition)) : undefined;
    if (!delegated || assignment.conditionVersion !== '2.0') {
      report(`${what}: a broad assignment needs a constrained-delegation condition (version 2.0) limiting the roles it may assign`);
      return;
    }
    const extra = delegated.filter((guid) => !tenantRoleGuids.has(guid));
    if (extra.length > 0) report(`${what}: its condition lets it assign roles outside the tenant roles: ${extra.join(', ')}`);
  }),
};

export const allowedRoleDefinitions: StackValidationPolicy = {
  name: 'zekt-allowed-role-definitions',
  description: "Role assignments use one of Zekt's built-in roles or a custom role defined in the same stack.",
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const custom = new Set(
      args.resources
        .filter((r) => r.type === 'azure-native:authorization:RoleDefinition')
        .flatMap((r) => [r.props.roleDefinitionId, r.props.name])
        .filter((id): id is string => typeof id === 'string')
        .map(roleGuidOf),
    );
    for (const r of args.resources.filter((res) => res.type === 'azure-native:authorization:RoleAssignment')) {
      const guid = roleGuidOf(String(r.props.roleDefinitionId));
      if (!zektRoleGuids.has(guid) && !custom.has(guid)) {
        report(`role assignment ${r.name}: role ${String(r.props.roleDefinitionId)} is neither a Zekt role nor a custom role of this stack`, r.urn);
      }
    }
  },
};

/** Actions no custom role of Zekt may hold: they hand out keys, rights or policy exemptions. */
const forbiddenActions = /listkeys|regeneratekey|listaccountsas|listservicesas|elevateAccess|roleDefinitions\/write|policyAssignments|policyDefinitions|policyExemptions|locks\//i;

export const customRolePermissions: ResourceValidationPolicy = {
  name: 'zekt-custom-role-permissions',
  description: 'Custom roles list actions explicitly (no wildcards), hold no data actions, and nothing that hands out keys or rights.',
  enforcementLevel: 'mandatory',
  validateResource: validateResourceOfType(authorization.RoleDefinition, (role, args, report) => {
    const what = `custom role ${args.name}`;
    for (const permission of role.permissions ?? []) {
      for (const action of permission.actions ?? []) {
        if (action.includes('*')) report(`${what}: action ${action} is a wildcard; list the actions`);
        else if (forbiddenActions.test(action)) report(`${what}: action ${action} is not allowed`);
      }
      if ((permission.dataActions ?? []).length > 0) report(`${what}: has data actions; grant data access with a built-in data role on one resource`);
    }
    for (const scope of role.assignableScopes ?? []) {
      if (scope === '/' || /managementGroups/i.test(scope)) report(`${what}: assignable at ${scope}; limit it to a subscription`);
    }
  }),
};
