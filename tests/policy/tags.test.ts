import { expect } from 'chai';
import { consistentTenantTag, requiredTags } from '../../policy/tags.ts';
import { zektPolicies } from '../../policy/zekt-policies.ts';
import { resourceViolations, stackViolations } from './support/policy-harness.ts';
import { storageAccount, vault } from './fixtures.ts';

describe('policy zekt-required-tags', () => {
  it('passes a tagged resource', async () => {
    expect(await resourceViolations(requiredTags, 'azure-native:storage:StorageAccount', storageAccount())).to.deep.equal([]);
  });
  it('reports a taggable resource without zekt:managed-by', async () => {
    const found = await resourceViolations(requiredTags, 'azure-native:keyvault:Vault', { ...vault(), tags: { 'zekt:tenant': 'acme' } }, 'kv');
    expect(found.map((v) => v.message)).to.deep.equal(['azure-native:keyvault:Vault kv: tag zekt:managed-by is missing']);
  });
  it('ignores resources Azure cannot tag', async () => {
    expect(await resourceViolations(requiredTags, 'azure-native:storage:Table', { tableName: 'events' })).to.deep.equal([]);
    expect(await resourceViolations(requiredTags, 'random:index/randomBytes:RandomBytes', { length: 32 })).to.deep.equal([]);
  });
});

describe('policy zekt-consistent-tenant-tag', () => {
  const acme = (name: string, type = 'azure-native:storage:StorageAccount') => ({ type, name, props: storageAccount() });
  it('passes a tenant stack tagged throughout, and a platform stack without tenant tags', async () => {
    expect(await stackViolations(consistentTenantTag, [acme('a'), acme('b', 'azure-native:keyvault:Vault')])).to.deep.equal([]);
    const platform = { type: 'azure-native:keyvault:Vault', name: 'kv', props: { tags: { 'zekt:managed-by': 'zekt-platform' } } };
    expect(await stackViolations(consistentTenantTag, [platform])).to.deep.equal([]);
  });
  it('reports a tenant-stack resource without zekt:tenant, naming its URN', async () => {
    const untagged = { type: 'azure-native:keyvault:Vault', name: 'kv', props: { tags: { 'zekt:managed-by': 'zekt-control-plane' } } };
    const found = await stackViolations(consistentTenantTag, [acme('a'), untagged]);
    expect(found).to.have.length(1);
    expect(found[0]?.urn).to.contain('azure-native:keyvault:Vault::kv');
  });
  it('reports resources of two tenants in one stack', async () => {
    const other = { type: 'azure-native:keyvault:Vault', name: 'kv', props: { tags: { 'zekt:managed-by': 'zekt-control-plane', 'zekt:tenant': 'globex' } } };
    const found = await stackViolations(consistentTenantTag, [acme('a'), other]);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/several zekt:tenant values/);
  });
});

describe('policy pack zekt-azure', () => {
  it('has uniquely named, mandatory policies', () => {
    const names = zektPolicies.map((p) => p.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const policy of zektPolicies) expect(policy.enforcementLevel, policy.name).to.equal('mandatory');
  });
});
