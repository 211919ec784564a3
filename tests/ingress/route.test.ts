import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { installationPayload, installationRepositoriesPayload, workflowRunPayload, workflowJobPayload } from '../fixtures/index.ts';
import { eventually, startIngressHarness, type IngressHarness } from './support.ts';

async function statusOf(h: IngressHarness, id: string, expected: string) {
  return eventually(h, async () => {
    const record = await h.ingress.deliveries.get(id);
    expect(record.status).to.equal(expected);
    return record;
  });
}

describe('ingress: route to tenants', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startIngressHarness({ forwardRetrySchedule: [1, 1] });
  });
  afterEach(() => h.close());

  it("forwards a workflow_run to its installation's tenant, which verifies it and keeps the run", async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload({ runId: 9001, repositoryId: 55, repository: 'acme/api' }), { deliveryId: id });
    const record = await statusOf(h, id, 'delivered');
    expect(record).to.include({ tenantId: 'acme', attempts: 1 });
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
    const run = await tenant.events.getRun(55, 9001);
    expect(run).to.include({ status: 'completed', repository: 'acme/api', deliveryId: id });
  });

  it('forwards a delivery sent three times exactly once', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    const payload = workflowJobPayload();
    const statuses = await Promise.all([1, 2, 3].map(() => h.send('workflow_job', payload, { deliveryId: id })));
    expect(statuses.map((s) => s.status).sort()).to.deep.equal([200, 200, 202]);
    await statusOf(h, id, 'delivered');
    await h.send('workflow_job', payload, { deliveryId: id });
    await h.host.drainQueues();
    expect(tenant.received.filter((r) => r.id === id)).to.have.length(1);
  });

  it('retries a tenant that answers 500, then delivers once it recovers', async () => {
    const tenant = await h.addTenant('acme');
    tenant.failWith.push({ status: 500 }, { status: 503 });
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    const record = await statusOf(h, id, 'delivered');
    expect(record.attempts).to.equal(3);
    expect(tenant.received.map((r) => r.status)).to.deep.equal([500, 503, 200]);
  });

  it('dead-letters on a 400 from the tenant, keeping the reason, without retrying', async () => {
    const tenant = await h.addTenant('acme');
    tenant.failWith.push({ status: 400 });
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    const record = await statusOf(h, id, 'dead');
    expect(record.lastError).to.match(/tenant answered 400/);
    expect(record.attempts).to.equal(1);
    expect(tenant.received).to.have.length(1);
  });

  it('dead-letters when retries are exhausted, then an operator replay delivers it', async () => {
    const tenant = await h.addTenant('acme');
    tenant.failWith.push({ status: 502 }, { status: 502 }, { status: 502 });
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    const dead = await statusOf(h, id, 'dead');
    expect(dead.lastError).to.match(/^retries exhausted: tenant answered 502/);
    expect(dead.attempts).to.equal(3);

    await h.ingress.replay(id);
    const delivered = await statusOf(h, id, 'delivered');
    expect(delivered.attempts).to.equal(1);
    expect(tenant.received.map((r) => r.status)).to.deep.equal([502, 502, 502, 200]);
  });

  it("honours the tenant's Retry-After", async () => {
    const tenant = await h.addTenant('acme');
    tenant.failWith.push({ status: 429, headers: { 'retry-after': '3' } });
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    const retrying = await statusOf(h, id, 'retrying');
    expect(Date.parse(retrying.nextAttemptAt as string) - Date.parse(retrying.updatedAt)).to.be.at.least(2900);
    await statusOf(h, id, 'delivered');
  });

  it('parks a delivery for an unknown installation and routes it once the installation is bound', async () => {
    const tenant = await h.addTenant('acme');
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload({ installationId: 5150 }), { deliveryId: id });
    const parked = await statusOf(h, id, 'parked');
    expect(parked.lastError).to.match(/not bound/);
    expect(tenant.received).to.have.length(0);

    await h.ingress.installations.bind(5150, 'acme', {}, new Date());
    expect(await h.ingress.releaseParked(5150)).to.equal(1);
    await statusOf(h, id, 'delivered');
    expect(tenant.received.map((r) => r.id)).to.deep.equal([id]);
  });

  it('keeps the installation registry current from installation events, and unbinds on uninstall', async () => {
    const created = installationPayload('created', 31337);
    await h.send('installation', created);
    await eventually(h, async () => {
      const installation = await h.ingress.installations.get(31337);
      expect(installation?.accountLogin).to.be.a('string');
      expect(installation?.repositories.length).to.be.greaterThan(0);
      // GitHub's sender of installation.created is the installer; binding relies on it.
      const sender = created.sender as { id: number; login: string };
      expect(installation?.installer).to.deep.equal({ id: sender.id, login: sender.login });
    });
    const before = (await h.ingress.installations.get(31337))?.repositories.length ?? 0;
    await h.ingress.installations.bind(31337, 'acme', {}, new Date());
    const added = installationRepositoriesPayload('added', 31337);
    await h.send('installation_repositories', added);
    const addedCount = (added.repositories_added as unknown[]).length;
    await eventually(h, async () => {
      expect((await h.ingress.installations.get(31337))?.repositories.length).to.equal(before + addedCount);
    });
    expect(await h.ingress.installations.tenantOf(31337)).to.equal('acme');
    await h.send('installation', installationPayload('deleted', 31337));
    await eventually(h, async () => {
      expect(await h.ingress.installations.tenantOf(31337)).to.equal(undefined);
    });
    expect((await h.ingress.installations.get(31337))?.deleted).to.equal(true);
  });

  it('signs forwards with both secrets during a forward-secret rotation', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    // The platform moves to a new secret; the tenant still only knows the old one.
    const old = h.secrets.get('tenant-acme-forward-secret') as string;
    h.secrets.set('tenant-acme-forward-secret-previous', old);
    h.secrets.set('tenant-acme-forward-secret', `whsec_${Buffer.from(randomUUID()).toString('base64')}`);
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    await statusOf(h, id, 'delivered');
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
  });

  it('re-announces a delivery whose announcement was lost, and purges records past retention', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    await statusOf(h, id, 'delivered');
    // A row stuck in `received` (its queue message lost).
    const record = await h.ingress.deliveries.get(id);
    const { deliveredAt: _d, ...rest } = record;
    await h.ingress.deliveries.update({ ...rest, deliveryId: id, status: 'received', updatedAt: new Date(Date.now() - 10 * 60_000).toISOString() });
    tenant.received.length = 0;
    const swept = await h.ingress.sweep();
    expect(swept.reannounced).to.equal(1);
    await statusOf(h, id, 'delivered');
    expect(tenant.received.map((r) => r.status)).to.deep.equal([200]); // the tenant saw a repeat: a duplicate, processed once

    const old = await h.ingress.deliveries.get(id);
    await h.ingress.deliveries.update({ ...old, receivedAt: new Date(Date.now() - 31 * 86_400_000).toISOString() });
    expect((await h.ingress.sweep()).purged).to.equal(1);
    let gone = false;
    await h.ingress.deliveries.get(id).catch(() => (gone = true));
    expect(gone).to.equal(true);
  });

  it("reads the forward secret from the tenant's own vault when the platform vault has none (Azure)", async () => {
    await h.close();
    const tenantVault = new Map<string, string>();
    h = await startIngressHarness({ forwardRetrySchedule: [1, 1] }, { forwardSecretFallback: async (tenantId) => tenantVault.get(tenantId) });
    const tenant = await h.addTenant('acme');
    tenantVault.set('acme', h.secrets.get('tenant-acme-forward-secret') as string);
    h.secrets.delete('tenant-acme-forward-secret');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    await statusOf(h, id, 'delivered');
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
  });
});
