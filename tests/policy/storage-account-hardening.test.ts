import { expect } from 'chai';
import { storageAccountHardening, storageAccountRequirements } from '../../policy/storage-account-hardening.ts';
import { resourceViolations, withSetting } from './support/policy-harness.ts';
import { storageAccount } from './fixtures.ts';

const type = 'azure-native:storage:StorageAccount';

describe('policy zekt-storage-account-hardening', () => {
  it('passes a hardened storage account', async () => {
    expect(await resourceViolations(storageAccountHardening, type, storageAccount())).to.deep.equal([]);
  });
  for (const { path, value } of storageAccountRequirements) {
    it(`reports ${path} when it is not ${JSON.stringify(value)}`, async () => {
      const wrong = typeof value === 'boolean' ? !value : 'weaker';
      for (const props of [withSetting(storageAccount(), path, wrong), withSetting(storageAccount(), path, undefined)]) {
        const found = await resourceViolations(storageAccountHardening, type, props);
        expect(found).to.have.length(1);
        expect(found[0]?.message).to.contain(path);
      }
    });
  }
  it('reports TLS 1.0 by name', async () => {
    const [found] = await resourceViolations(storageAccountHardening, type, withSetting(storageAccount(), 'minimumTlsVersion', 'TLS1_0'));
    expect(found?.message).to.match(/minimumTlsVersion must be "TLS1_2" \(is "TLS1_0"\)/);
  });
  it('ignores other resource types', async () => {
    expect(await resourceViolations(storageAccountHardening, 'azure-native:keyvault:Vault', { kind: 'x' })).to.deep.equal([]);
  });
});
