import { expect } from 'chai';
import { constrainedDelegationCondition } from '../../platform/role-conditions.ts';
import {
  allowedRoleDefinitions,
  customRolePermissions,
  noBroadRoleAssignments,
  roleAssignmentPrincipalType,
} from '../../policy/role-assignments.ts';
import { tenantAssignableRoles } from '../../tenant-stack/azure/role-definitions.ts';
import { documentedRoleIds } from '../support/documented-role-ids.ts';
import { resourceViolations, stackViolations, withSetting } from './support/policy-harness.ts';
import { accountId, contributor, group, owner, roleAssignment, roleId, sub, tenantBlobOwner } from './fixtures.ts';

const type = 'azure-native:authorization:RoleAssignment';
const customGuid = '3f2b7c1d-0a9e-5b8c-9d7e-6f5a4b3c2d1e';
const customRole = {
  type: 'azure-native:authorization:RoleDefinition',
  name: 'provisioner-role',
  props: {
    roleDefinitionId: customGuid,
    name: customGuid,
    scope: sub,
    assignableScopes: [sub],
    permissions: [{ actions: ['Microsoft.Resources/subscriptions/resourceGroups/write', 'Microsoft.Authorization/roleAssignments/write'], dataActions: [] }],
  },
};
const delegated = (): Record<string, unknown> => ({
  ...roleAssignment(customGuid, sub),
  condition: constrainedDelegationCondition(tenantAssignableRoles),
  conditionVersion: '2.0',
});

describe('policy zekt-no-broad-role-assignments', () => {
  it('passes a tenant role on a single resource', async () => {
    expect(await resourceViolations(noBroadRoleAssignments, type, tenantBlobOwner())).to.deep.equal([]);
  });
  for (const [label, scope] of [
    ['resource group', group],
    ['subscription', sub],
    ['management group', '/providers/Microsoft.Management/managementGroups/zekt'],
    ['tenant root', '/'],
  ] as const) {
    it(`reports a tenant role at ${label} scope`, async () => {
      const found = await resourceViolations(noBroadRoleAssignments, type, withSetting(tenantBlobOwner(), 'scope', scope));
      expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/storageBlobDataOwner reaches every resource beneath this scope/);
    });
  }
  it('passes the provisioner custom role at subscription scope when constrained to the tenant roles', async () => {
    expect(await resourceViolations(noBroadRoleAssignments, type, delegated())).to.deep.equal([]);
  });
  it('reports a broad custom role without a condition', async () => {
    const found = await resourceViolations(noBroadRoleAssignments, type, withSetting(delegated(), 'condition', undefined));
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/constrained-delegation condition/);
  });
  it('reports a broad custom role whose condition allows delegating Owner', async () => {
    const props = withSetting(delegated(), 'condition', `${constrainedDelegationCondition(tenantAssignableRoles)}`.replace(documentedRoleIds.storageBlobDataOwner, owner));
    const found = await resourceViolations(noBroadRoleAssignments, type, props);
    expect(found).to.have.length(1);
    expect(found[0]?.message).to.contain(owner);
  });
  it('reports Owner at subscription scope even with a condition', async () => {
    const found = await resourceViolations(noBroadRoleAssignments, type, { ...delegated(), roleDefinitionId: roleId(owner) });
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/Owner reaches every resource/);
  });
});

describe('policy zekt-allowed-role-definitions', () => {
  const assignment = (props: Record<string, unknown>) => ({ type, name: 'grant', props });
  it('passes Zekt built-in roles and custom roles of the stack', async () => {
    expect(await stackViolations(allowedRoleDefinitions, [customRole, assignment(tenantBlobOwner()), assignment(delegated())])).to.deep.equal([]);
  });
  it('reports a built-in role Zekt does not use (Contributor), naming the URN', async () => {
    const found = await stackViolations(allowedRoleDefinitions, [assignment(roleAssignment(contributor, accountId))]);
    expect(found).to.have.length(1);
    expect(found[0]?.message).to.contain(contributor);
    expect(found[0]?.urn).to.contain('RoleAssignment::grant');
  });
  it('reports a custom role that is not defined in the stack', async () => {
    expect(await stackViolations(allowedRoleDefinitions, [assignment(delegated())])).to.have.length(1);
  });
});

describe('policy zekt-role-assignment-principal-type', () => {
  it('passes a service principal', async () => {
    expect(await resourceViolations(roleAssignmentPrincipalType, type, tenantBlobOwner())).to.deep.equal([]);
  });
  it('reports a user or a missing principal type', async () => {
    for (const principalType of ['User', undefined]) {
      const found = await resourceViolations(roleAssignmentPrincipalType, type, withSetting(tenantBlobOwner(), 'principalType', principalType));
      expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/ServicePrincipal/);
    }
  });
});

describe('policy zekt-custom-role-permissions', () => {
  const roleType = 'azure-native:authorization:RoleDefinition';
  it('passes explicit control-plane actions', async () => {
    expect(await resourceViolations(customRolePermissions, roleType, customRole.props)).to.deep.equal([]);
  });
  for (const action of ['Microsoft.Storage/*', '*', 'Microsoft.Storage/storageAccounts/listKeys/action', 'Microsoft.Authorization/roleDefinitions/write', 'Microsoft.Authorization/elevateAccess/Action']) {
    it(`reports the action ${action}`, async () => {
      const props = withSetting(customRole.props, 'permissions', [{ actions: [action], dataActions: [] }]);
      expect(await resourceViolations(customRolePermissions, roleType, props)).to.have.length(1);
    });
  }
  it('reports data actions', async () => {
    const props = withSetting(customRole.props, 'permissions', [{ actions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] }]);
    expect((await resourceViolations(customRolePermissions, roleType, props)).map((v) => v.message)).to.have.length(1).and.to.match(/data actions/);
  });
  it('reports a role assignable at the tenant root', async () => {
    const props = withSetting(customRole.props, 'assignableScopes', ['/']);
    expect(await resourceViolations(customRolePermissions, roleType, props)).to.have.length(1);
  });
});
