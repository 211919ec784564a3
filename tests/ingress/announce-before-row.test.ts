import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { workflowRunPayload } from '../fixtures/index.ts';
import { routerByHand, startIngressHarness, type IngressHarness } from './support.ts';
import { deliveryPartition, toEntity } from '../../runtime/ingress/delivery-record.ts';

/**
 * The intake writes a round's rows and its announcement at the same time, so the router can read
 * an announcement before the row it names is visible. Here the router is called by hand (no
 * poller), so the order is certain: the announcement is handled first, the row lands after.
 */
describe('ingress: an announcement that reaches the router before its row', () => {
  let h: IngressHarness;
  let route: (message: unknown) => Promise<unknown>;
  beforeEach(async () => {
    h = await startIngressHarness({}, { router: false });
    route = routerByHand(h);
  });
  afterEach(() => h.close());

  async function writeRowAlone(id: string): Promise<void> {
    const body = Buffer.from(JSON.stringify(workflowRunPayload()));
    const at = new Date().toISOString();
    await h.storage.table('deliveries').createEntity(
      toEntity({
        deliveryId: id,
        partition: deliveryPartition(id),
        event: 'workflow_run',
        action: 'completed',
        installationId: 4242,
        signature: 'sha256',
        receivedAt: at,
        status: 'received',
        attempts: 0,
        updatedAt: at,
        bodyBytes: body.length,
        body,
      }),
    );
  }

  it('looks again, and delivers once the row is there', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    const routing = route({ deliveryIds: [id] });
    await sleep(60); // the router has looked once and found nothing
    await writeRowAlone(id);
    await routing;
    expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
  });

  it('gives up without failing the message when the row never comes (its write failed)', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = randomUUID();
    await route({ deliveryIds: [id] }); // resolves: nothing to retry, nothing for the poison queue
    expect(tenant.received).to.deep.equal([]);
    expect(h.lines.some((l) => l.deliveryId === id && String(l.msg).includes('has no row'))).to.equal(true);
  });
});
