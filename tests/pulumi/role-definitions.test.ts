/**
 * The built-in role ids the programs, the policy pack and the worker's constrained delegation use
 * (`tenant-stack/azure/role-definitions.ts`) are Azure's documented ids, compared with a table typed
 * from Microsoft's documentation (tests/support/documented-role-ids.ts).
 */
import { expect } from 'chai';
import { builtInRoles, tenantAssignableRoles } from '../../tenant-stack/azure/role-definitions.ts';
import { documentedRoleIds, expectedTenantAssignableRoles, type DocumentedRole } from '../support/documented-role-ids.ts';

describe('built-in role ids (tenant-stack/azure/role-definitions.ts)', () => {
  for (const [role, id] of Object.entries(builtInRoles)) {
    it(`${role} is Azure's documented id`, () => {
      expect(id, `${role} in role-definitions.ts`).to.equal(documentedRoleIds[role as DocumentedRole]);
    });
  }
  it('names no role twice (two names, one id)', () => {
    const ids = Object.values(builtInRoles);
    expect(new Set(ids).size).to.equal(ids.length);
  });
  it('lets tenant stacks assign exactly the documented tenant roles', () => {
    expect([...tenantAssignableRoles].sort()).to.deep.equal([...expectedTenantAssignableRoles].sort());
  });
});
