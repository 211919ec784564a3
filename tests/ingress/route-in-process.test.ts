/**
 * The intake hands the rows of each round it stores to the router of its own process
 * (route-delivery.ts `takeStored`): routed at once, with no queue message and no read back. A copy
 * that is no longer the row (another router delivered it, an operator replayed it, the purge
 * removed it) is caught by the claim's ETag and the row is read instead — nothing is forwarded
 * twice, nothing is lost. A router with too much in hand declines, and the round is announced on
 * the queue; a route that fails part-way is announced for another try.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowRunPayload } from '../fixtures/index.ts';
import { eventually, startIngressHarness, type IngressHarness } from './support.ts';
import { createDeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { createDeliveryStore, type DeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { createRouter } from '../../runtime/ingress/route-delivery.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { memoryLogger } from '../support/logs.ts';

describe('ingress: rows handed from the intake to the router of its process', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    // The harness's own router is off: each test builds the intake and router pair it looks at.
    h = await startIngressHarness({}, { router: false });
    await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
  });
  afterEach(() => h.close());

  const queue = () => h.storage.queue('ingress-deliveries');
  const tenant = () => h.tenants.get('acme') as NonNullable<ReturnType<IngressHarness['tenants']['get']>>;

  /** The announcements in the queue (taken out of it). */
  async function takeAnnouncements(): Promise<unknown[]> {
    const { receivedMessageItems } = await queue().receiveMessages({ numberOfMessages: 32 });
    for (const m of receivedMessageItems) await queue().deleteMessage(m.messageId, m.popReceipt);
    return receivedMessageItems.map((m) => decodeQueueMessage(m.messageText));
  }

  /** An intake and router pair on the harness's storage, the router's row reads counted. */
  function pair(options: { maxInHand?: number; deliveries?: (store: DeliveryStore) => DeliveryStore; hand?: 'router' | 'keep' } = {}) {
    const table = h.storage.table('deliveries');
    const payloads = h.storage.container('webhook-payloads');
    const store = createDeliveryStore(table, payloads, deliveryPartition);
    const reads: string[] = [];
    const counted: DeliveryStore = { ...store, get: (deliveryId) => (reads.push(deliveryId), store.get(deliveryId)) };
    const { log, lines } = memoryLogger();
    const router = createRouter({
      deliveries: options.deliveries ? options.deliveries(counted) : counted,
      installations: h.ingress.installations,
      tenantWebhookUrl: async (tenantId) => h.tenants.get(tenantId)?.webhookUrl,
      forwardSecrets: h.ingress.forwardSecrets,
      queue: queue(),
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
      log,
      ...(options.maxInHand !== undefined ? { maxInHand: options.maxInHand } : {}),
    });
    // `keep`: the rows are kept here instead, for a test to hand over later.
    const kept: DeliveryRecord[] = [];
    const routeHere = options.hand === 'keep' ? (rows: readonly DeliveryRecord[]) => (kept.push(...rows), true) : (rows: readonly DeliveryRecord[], ids: readonly string[]) => router.takeStored(rows, ids);
    const committer = createDeliveryCommitter({ table, queue: queue(), payloads, inlineBodyBytes: 48 * 1024, routeHere, log });
    return { router, committer, reads, kept, lines };
  }

  const body = Buffer.from(JSON.stringify(workflowRunPayload()));
  function record(deliveryId: string, installationId = 4242): DeliveryRecord {
    const at = new Date().toISOString();
    return {
      deliveryId, partition: deliveryPartition(deliveryId), event: 'workflow_run', action: 'completed', installationId,
      signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes: body.length,
    };
  }
  const delivered = (ids: readonly string[]) => eventually(h, async () => {
    for (const id of ids) expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
  });

  it('routes what its intake stored without a queue message and without reading a row back', async () => {
    const { committer, reads } = pair();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    // Two in one round (a transaction), one alone (a single insert).
    expect(await Promise.all(ids.slice(0, 2).map((id) => committer.persist(record(id), body)))).to.deep.equal(['stored', 'stored']);
    expect(await committer.persist(record(ids[2] as string), body)).to.equal('stored');
    await delivered(ids);
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    expect(reads, 'rows read back').to.deep.equal([]);
    expect((await queue().peekMessages({ numberOfMessages: 32 })).peekedMessageItems, 'announcements').to.deep.equal([]);
  });

  it('routes a duplicate again from its row (its first copy may still be waiting), and forwards it once', async () => {
    const { committer, reads } = pair();
    const id = randomUUID();
    expect(await committer.persist(record(id), body)).to.equal('stored');
    await delivered([id]);
    expect(await committer.persist(record(id), body)).to.equal('duplicate');
    await eventually(h, async () => expect(reads).to.deep.equal([id]));
    expect(tenant().received).to.deep.equal([{ id, status: 200 }]);
  });

  it('forwards once when another router delivered the row before the copy was routed', async () => {
    const { committer, router, kept } = pair({ hand: 'keep' });
    const id = randomUUID();
    await committer.persist(record(id), body);
    await h.ingress.router.routeOne(id); // another instance's router, from the sweeper's announcement
    expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
    expect(router.takeStored(kept)).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(tenant().received).to.deep.equal([{ id, status: 200 }]);
    expect(await h.ingress.deliveries.get(id)).to.include({ status: 'delivered', attempts: 1 });
  });

  it('routes the row as it is now when it changed after the intake wrote it (parked, then replayed)', async () => {
    const { committer, router, kept } = pair({ hand: 'keep' });
    const id = randomUUID();
    await committer.persist(record(id, 777), body); // an installation bound to no tenant yet
    await h.ingress.router.routeOne(id);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('parked');
    await h.ingress.installations.bind(777, 'acme', {}, new Date());
    await h.ingress.replay(id);
    await takeAnnouncements(); // the replay's own announcement: this test hands the stale copy over instead
    router.takeStored(kept);
    await delivered([id]);
    expect(tenant().received).to.deep.equal([{ id, status: 200 }]);
  });

  it('gives up on a copy whose row was purged meanwhile, forwarding nothing', async () => {
    const { committer, router, kept, lines } = pair({ hand: 'keep' });
    const id = randomUUID();
    await committer.persist(record(id), body);
    await h.ingress.deliveries.remove(await h.ingress.deliveries.get(id));
    router.takeStored(kept);
    await eventually(h, async () => expect(lines.some((l) => l.deliveryId === id && String(l.msg).includes('has no row'))).to.equal(true));
    expect(tenant().received).to.deep.equal([]);
  });

  it('declines a round beyond what it may hold: the round is announced, and routed from the queue', async () => {
    const { committer, router } = pair({ maxInHand: 1 });
    const ids = [randomUUID(), randomUUID()];
    expect(await Promise.all(ids.map((id) => committer.persist(record(id), body)))).to.deep.equal(['stored', 'stored']);
    const announcements = await takeAnnouncements();
    expect(announcements).to.deep.equal([{ deliveryIds: ids }]);
    expect(tenant().received).to.deep.equal([]);
    await router.handleAnnouncement(announcements[0]);
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
  });

  it('announces a route that failed part-way (storage refused the claim), for another try a second later', async () => {
    let refuse = true;
    const { committer } = pair({
      deliveries: (store) => ({
        ...store,
        update: (r) => (refuse ? ((refuse = false), Promise.reject(new Error('storage unreachable'))) : store.update(r)),
      }),
    });
    const id = randomUUID();
    expect(await committer.persist(record(id), body)).to.equal('stored');
    const announcement = await eventually(h, async () => {
      const [first] = await takeAnnouncements();
      expect(first).to.not.equal(undefined);
      return first;
    });
    expect(announcement).to.deep.equal({ deliveryIds: [id] });
    expect((await h.ingress.deliveries.get(id)).status).to.equal('received');
    expect(tenant().received).to.deep.equal([]);
  });
});
