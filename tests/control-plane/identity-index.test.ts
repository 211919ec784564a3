/**
 * The broker finds its caller's tenant through the registry's identity index: one point read by
 * identity id (partition `identity` of the tenants table), checked against the tenant it names.
 */
import { expect } from 'chai';
import { createTenantRegistry } from '../../automation/tenant-registry.ts';
import { tenantOutputKeys, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';

const outputs = (tenantId: string, identity: string): TenantStackOutputs =>
  ({
    ...Object.fromEntries(tenantOutputKeys.map((key) => [key, `${key}-${tenantId}`])),
    tenantId,
    identityClientId: `client-${identity}`,
    identityPrincipalId: `principal-${identity}`,
  }) as unknown as TenantStackOutputs;

describe('control plane: the identity index behind the broker', () => {
  async function registryWithReady(tenantId: string, identity: string) {
    const storage = await sharedStorage();
    const table = storage.table(uniqueName('tenants'));
    const registry = createTenantRegistry({ table });
    await registry.create(tenantId, { requestId: crypto.randomUUID() });
    await registry.update(tenantId, (r) => ({ ...r, status: 'provisioning' }));
    await registry.update(tenantId, (r) => ({ ...r, status: 'ready', outputs: outputs(tenantId, identity) }));
    return { registry, table };
  }

  it('finds a ready tenant by its client id and by its principal id, and no one by an unknown id', async () => {
    const { registry, table } = await registryWithReady('acme', 'a1');
    expect((await registry.findByIdentity('client-a1'))?.tenantId).to.equal('acme');
    expect((await registry.findByIdentity('principal-a1'))?.tenantId).to.equal('acme');
    expect(await registry.findByIdentity('client-nobody')).to.equal(undefined);
    const row = await table.getEntity<{ tenantId: string }>('identity', 'client-a1');
    expect(row.tenantId).to.equal('acme');
    expect((await registry.list()).map((r) => r.tenantId), 'index rows are not tenants').to.deep.equal(['acme']);
  });

  it('stops finding a tenant by an identity its outputs no longer carry (a stale row proves nothing)', async () => {
    const { registry, table } = await registryWithReady('acme', 'old');
    await registry.update('acme', (r) => ({ ...r, outputs: outputs('acme', 'new') }));
    expect(await registry.findByIdentity('client-old')).to.equal(undefined);
    expect((await registry.findByIdentity('client-new'))?.tenantId).to.equal('acme');
    // A row forged to name another tenant does not make that tenant the caller.
    await table.upsertEntity({ partitionKey: 'identity', rowKey: 'client-intruder', tenantId: 'acme' });
    expect(await registry.findByIdentity('client-intruder')).to.equal(undefined);
  });

  it('indexes a tenant that was ready before the index when its next reconcile finishes', async () => {
    const { registry, table } = await registryWithReady('acme', 'a1');
    await table.deleteEntity('identity', 'client-a1');
    expect(await registry.findByIdentity('client-a1')).to.equal(undefined);
    await registry.update('acme', (r) => ({ ...r, lastReconcile: { at: new Date().toISOString(), drifted: 0, repaired: 0 } }));
    expect((await registry.findByIdentity('client-a1'))?.tenantId).to.equal('acme');
  });
});
