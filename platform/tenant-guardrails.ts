/**
 * Azure Policy guardrails on the subscription tenant compartments live in, closing what role
 * assignment conditions cannot: constrained delegation limits *which* roles the provisioning
 * worker may assign, not *where*, so a deny policy refuses any assignment of a tenant data role at
 * subscription, management-group or resource-group scope. A second one refuses Zekt Key Vaults
 * without RBAC authorization (an access-policy vault could be opened by whoever may write it).
 * https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
 */
import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import { builtInRoles, tenantAssignableRoles } from '../tenant-stack/azure/role-definitions.ts';

export interface TenantGuardrailsArgs {
  readonly environment: string;
  /** `/subscriptions/<id>` the guardrails apply to. */
  readonly subscriptionScope: pulumi.Input<string>;
}

/**
 * Role assignment ids have 7 segments at subscription scope, 9 at resource-group and
 * management-group scope, 5 at root, and at least 13 on a resource.
 */
export const broadRoleAssignmentRule = {
  if: {
    allOf: [
      { field: 'type', equals: 'Microsoft.Authorization/roleAssignments' },
      {
        anyOf: tenantAssignableRoles.map((role) => ({
          field: 'Microsoft.Authorization/roleAssignments/roleDefinitionId',
          like: `*/${builtInRoles[role]}`,
        })),
      },
      { value: "[length(split(field('id'), '/'))]", lessOrEquals: 9 },
    ],
  },
  then: { effect: 'deny' },
} as const;

export const rbacVaultRule = {
  if: {
    allOf: [
      { field: 'type', equals: 'Microsoft.KeyVault/vaults' },
      { value: '[resourceGroup().name]', like: 'rg-zekt-*' },
      { field: 'Microsoft.KeyVault/vaults/enableRbacAuthorization', notEquals: true },
    ],
  },
  then: { effect: 'deny' },
} as const;

export class TenantGuardrails extends pulumi.ComponentResource {
  constructor(name: string, args: TenantGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:platform:TenantGuardrails', name, {}, opts);
    const child = { parent: this };
    const rules = [
      {
        key: 'broad-role-assignments',
        displayName: 'Zekt: deny tenant data roles at subscription or resource-group scope',
        rule: broadRoleAssignmentRule,
        message: 'Zekt tenant roles may only be assigned on a single resource.',
      },
      {
        key: 'rbac-key-vaults',
        displayName: 'Zekt: Key Vaults must use Azure RBAC',
        rule: rbacVaultRule,
        message: 'Zekt Key Vaults must use Azure RBAC authorization, not access policies.',
      },
    ];
    for (const { key, displayName, rule, message } of rules) {
      const definition = new authorization.PolicyDefinition(
        `${name}-${key}`,
        {
          policyDefinitionName: `zekt-${args.environment}-${key}`,
          displayName,
          policyType: authorization.PolicyType.Custom,
          mode: 'All',
          policyRule: rule,
        },
        child,
      );
      new authorization.PolicyAssignment(
        `${name}-${key}-assignment`,
        {
          policyAssignmentName: `zekt-${args.environment}-${key}`,
          displayName,
          scope: args.subscriptionScope,
          policyDefinitionId: definition.id,
          enforcementMode: authorization.EnforcementMode.Default,
          nonComplianceMessages: [{ message }],
        },
        child,
      );
    }
    this.registerOutputs({});
  }
}
