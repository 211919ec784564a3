/**
 * After a storage outage the router faces a backlog: every delivery that was stored but not yet
 * routed, announced again by the sweeper (once per sweep while it waits, so several times over).
 * The poller hands the router up to 16 announcements at once. Routed all at once, that is one
 * forward per delivery to the tenant at the same moment: the tenant runtime cannot answer them
 * within the forward timeout, every one is retried on the same schedule, and the backlog never
 * drains. The router keeps a bounded number of forwards open per tenant instead.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowJobPayload } from '../fixtures/index.ts';
import { forwardsPerTenant } from '../../runtime/ingress/route-delivery.ts';
import { startIngressHarness, type IngressHarness } from '../ingress/support.ts';

describe('fault suite: a backlog after a storage outage reaches the tenant at a bounded rate', function () {
  this.timeout(120_000);
  let h: IngressHarness;
  let inFlight = 0;
  let mostInFlight = 0;
  before(async () => {
    // Forwards to the tenant are counted while they are open.
    const counting: typeof fetch = async (input, init) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    h = await startIngressHarness({ forwardTimeoutMs: 30_000 }, { router: false, fetch: counting });
  });
  after(() => h?.close());

  it('200 stored deliveries announced 8 times over: at most the bound in flight, each forwarded once', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const ids = Array.from({ length: 200 }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 25) {
      const statuses = await Promise.all(ids.slice(i, i + 25).map((id) => h.send('workflow_job', workflowJobPayload({ installationId: 4242 }), { deliveryId: id })));
      expect(statuses.map((s) => s.status)).to.deep.equal(statuses.map(() => 202));
    }
    // The backlog: the intake's own announcements plus the sweeper's repeats, handled together.
    await Promise.all(Array.from({ length: 8 }, () => h.ingress.router.handleAnnouncement({ deliveryIds: ids })));

    expect(mostInFlight, 'forwards open at once').to.be.at.most(forwardsPerTenant);
    expect(mostInFlight).to.be.greaterThan(1);
    const records = await Promise.all(ids.map((id) => h.ingress.deliveries.get(id)));
    expect(records.filter((r) => r.status !== 'delivered').map((r) => `${r.deliveryId} ${r.status}`)).to.deep.equal([]);
    expect(records.every((r) => r.attempts === 1)).to.equal(true);
    const forwarded = tenant.received.filter((r) => r.status === 200).map((r) => r.id);
    expect([...forwarded].sort()).to.deep.equal([...ids].sort());
  });

  it('a malformed announcement is dropped and routes nothing', async () => {
    const before = (await h.ingress.deliveries.query({})).map((r) => `${r.deliveryId} ${r.status}`).sort();
    await h.ingress.router.handleAnnouncement({ deliveryIds: 'not a list' });
    await h.ingress.router.handleAnnouncement(null);
    const after = (await h.ingress.deliveries.query({})).map((r) => `${r.deliveryId} ${r.status}`).sort();
    expect(after).to.deep.equal(before);
  });
});
