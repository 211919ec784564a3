import { expect } from 'chai';
import { keyVaultHardening, keyVaultRequirements } from '../../policy/key-vault-hardening.ts';
import { resourceViolations, withSetting } from './support/policy-harness.ts';
import { vault } from './fixtures.ts';

const type = 'azure-native:keyvault:Vault';

describe('policy zekt-key-vault-hardening', () => {
  it('passes a hardened vault', async () => {
    expect(await resourceViolations(keyVaultHardening, type, vault())).to.deep.equal([]);
  });
  for (const { path, value } of keyVaultRequirements) {
    it(`reports ${path} when it is not ${JSON.stringify(value)}`, async () => {
      const wrong = typeof value === 'boolean' ? !value : value === 'Deny' ? 'Allow' : 'None';
      const found = await resourceViolations(keyVaultHardening, type, withSetting(vault(), path, wrong));
      expect(found).to.have.length(1);
      expect(found[0]?.message).to.contain(path);
    });
  }
  it('reports a missing or out-of-range soft-delete retention', async () => {
    for (const days of [undefined, 3, 365]) {
      const found = await resourceViolations(keyVaultHardening, type, withSetting(vault(), 'properties.softDeleteRetentionInDays', days));
      expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/softDeleteRetentionInDays/);
    }
  });
  it('reports access policies', async () => {
    const props = withSetting(vault(), 'properties.accessPolicies', [{ objectId: 'x', tenantId: 'y', permissions: { secrets: ['get'] } }]);
    const found = await resourceViolations(keyVaultHardening, type, props);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/access policies/);
  });
  it('reports a vault without network rules', async () => {
    const found = await resourceViolations(keyVaultHardening, type, withSetting(vault(), 'properties.networkAcls', undefined));
    expect(found.map((v) => v.message).join('\n')).to.contain('networkAcls.defaultAction').and.to.contain('networkAcls.bypass');
  });
});
