import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { installationPayload, pushPayload } from '../fixtures/index.ts';
import { eventually, startIngressHarness, type IngressHarness } from './support.ts';

describe('ingress: pushes and installation events for subscriptions as code', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startIngressHarness({ forwardRetrySchedule: [1, 1] });
  });
  afterEach(() => h.close());

  const settled = (id: string, status: string) =>
    eventually(h, async () => {
      const record = await h.ingress.deliveries.get(id);
      expect(record.status).to.equal(status);
      return record;
    });

  it('stores and forwards a push that changes .github/zekt.yml on the default branch', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    const res = await h.send('push', pushPayload({ modified: ['.github/zekt.yml'] }), { deliveryId: id });
    expect(res.status).to.equal(202);
    expect(((await res.json()) as { status: string }).status).to.equal('received');
    await settled(id, 'delivered');
    expect(tenant.received.map((r) => r.id)).to.deep.equal([id]);
  });

  it('records as ignored, and never forwards, a push not touching the file or not on the default branch', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const other = randomUUID();
    const branch = randomUUID();
    expect(((await (await h.send('push', pushPayload({ modified: ['README.md'] }), { deliveryId: other })).json()) as { status: string }).status).to.equal('ignored');
    const onBranch = pushPayload({ modified: ['.github/zekt.yml'], ref: 'refs/heads/feature' });
    expect(((await (await h.send('push', onBranch, { deliveryId: branch })).json()) as { status: string }).status).to.equal('ignored');
    await h.host.drainQueues();
    expect((await h.ingress.deliveries.get(other)).status).to.equal('ignored');
    expect((await h.ingress.deliveries.get(branch)).status).to.equal('ignored');
    expect(tenant.received).to.deep.equal([]);
  });

  it('applies an installation event to the registry once, parks it until bound, then forwards it to the tenant', async () => {
    const tenant = await h.addTenant('acme');
    const id = randomUUID();
    await h.send('installation', installationPayload('created', 31337), { deliveryId: id });
    const parked = await settled(id, 'parked');
    expect(parked.appliedAt).to.be.a('string');
    const repositories = (await h.ingress.installations.get(31337))?.repositories ?? [];
    expect(repositories.length).to.be.greaterThan(0);
    await h.ingress.installations.bind(31337, 'acme', { repositories: [] }, new Date());
    expect(await h.ingress.releaseParked(31337)).to.equal(1);
    await settled(id, 'delivered');
    expect(tenant.received.map((r) => r.id)).to.deep.equal([id]);
    // Released and routed again, the event was not applied a second time (the binding's repositories stand).
    expect((await h.ingress.installations.get(31337))?.repositories).to.deep.equal([]);
  });
});
