/**
 * The intake hands each round it stores to the router of its own process (route-delivery.ts
 * `reserve`): the rows are inserted claimed by that router and routed at once — no queue message,
 * no claim of its own, no read back — and no other router touches them meanwhile. A router with
 * too much in hand declines, and the round is announced on the queue; a route that fails part-way
 * is announced for another try once its claim has run out.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowRunPayload } from '../fixtures/index.ts';
import { eventually, receivedRunRecord, startRouterlessHarness, type IngressHarness } from './support.ts';
import { createDeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { createDeliveryStore, type DeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition } from '../../runtime/ingress/delivery-record.ts';
import { createRouter } from '../../runtime/ingress/route-delivery.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { memoryLogger } from '../support/logs.ts';

describe('ingress: rounds handed from the intake to the router of its process', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startRouterlessHarness();
  });
  afterEach(() => h.close());

  const queue = () => h.storage.queue('ingress-deliveries');
  const tenant = () => h.tenants.get('acme') as NonNullable<ReturnType<IngressHarness['tenants']['get']>>;

  /** The announcements visible in the queue (taken out of it). */
  async function takeAnnouncements(): Promise<unknown[]> {
    const { receivedMessageItems } = await queue().receiveMessages({ numberOfMessages: 32 });
    for (const m of receivedMessageItems) await queue().deleteMessage(m.messageId, m.popReceipt);
    return receivedMessageItems.map((m) => decodeQueueMessage(m.messageText));
  }

  /** An intake and router pair on the harness's storage, the router's row reads and writes counted. */
  function pair(options: { maxInHand?: number; deliveries?: (store: DeliveryStore) => DeliveryStore } = {}) {
    const table = h.storage.table('deliveries');
    const payloads = h.storage.container('webhook-payloads');
    const store = createDeliveryStore(table, payloads, deliveryPartition);
    const reads: string[] = [];
    const writes: string[] = [];
    const counted: DeliveryStore = {
      ...store,
      get: (deliveryId) => (reads.push(deliveryId), store.get(deliveryId)),
      update: (record) => (writes.push(record.deliveryId), store.update(record)),
    };
    const { log } = memoryLogger();
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
    const committer = createDeliveryCommitter({ table, queue: queue(), payloads, inlineBodyBytes: 48 * 1024, routeHere: router, log });
    return { router, committer, reads, writes };
  }

  const body = Buffer.from(JSON.stringify(workflowRunPayload()));
  const record = (deliveryId: string) => receivedRunRecord(deliveryId, body.length);
  const delivered = (ids: readonly string[]) => eventually(h, async () => {
    for (const id of ids) expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
  });

  it('routes what its intake stored with one write per delivery: no queue message, no claim, no read back', async () => {
    const { committer, reads, writes } = pair();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    // Two in one round (a transaction), one alone (a single insert).
    expect(await Promise.all(ids.slice(0, 2).map((id) => committer.persist(record(id), body)))).to.deep.equal(['stored', 'stored']);
    expect(await committer.persist(record(ids[2] as string), body)).to.equal('stored');
    await delivered(ids);
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    expect(reads, 'rows read back').to.deep.equal([]);
    expect(writes.sort(), 'one write each: its outcome').to.deep.equal([...ids].sort());
    expect((await queue().getProperties()).approximateMessagesCount, 'announcements').to.equal(0);
  });

  it('inserts the rows claimed by the router it hands them to: another router leaves them alone', async () => {
    const holder = pair();
    // A router that has taken a round and not routed it yet (its process is busy, or died).
    const held = holder.router.reserve(1);
    expect(held?.leaseUntil).to.be.a('string');
    const holding = { reserve: () => ({ leaseUntil: held?.leaseUntil as string, handOver: () => undefined }) };
    const intake = createDeliveryCommitter({ table: h.storage.table('deliveries'), queue: queue(), payloads: h.storage.container('webhook-payloads'), inlineBodyBytes: 48 * 1024, routeHere: holding, log: memoryLogger().log });
    const id = randomUUID();
    expect(await intake.persist(record(id), body)).to.equal('stored');
    expect((await h.ingress.deliveries.get(id)).leaseUntil).to.equal(held?.leaseUntil);
    // The sweeper's announcement reaches another router meanwhile: the row is not its to forward.
    await h.ingress.router.routeOne(id);
    expect(tenant().received).to.deep.equal([]);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('received');
    held?.handOver([], []);
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

  it('declines a round beyond what it may hold: the round is announced, unclaimed, and routed from the queue', async () => {
    const { committer, router } = pair({ maxInHand: 1 });
    const ids = [randomUUID(), randomUUID()];
    expect(await Promise.all(ids.map((id) => committer.persist(record(id), body)))).to.deep.equal(['stored', 'stored']);
    const announcements = await takeAnnouncements();
    expect(announcements).to.deep.equal([{ deliveryIds: ids }]);
    for (const id of ids) expect((await h.ingress.deliveries.get(id)).leaseUntil).to.equal(undefined);
    expect(tenant().received).to.deep.equal([]);
    await router.handleAnnouncement(announcements[0]);
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
  });

  it('announces a route that failed part-way (storage refused its outcome) for another try once its claim has run out', async () => {
    let refuse = true;
    const { committer } = pair({
      deliveries: (store) => ({
        ...store,
        update: (r) => (refuse ? ((refuse = false), Promise.reject(new Error('storage unreachable'))) : store.update(r)),
      }),
    });
    const id = randomUUID();
    expect(await committer.persist(record(id), body)).to.equal('stored');
    await eventually(h, async () => expect((await queue().getProperties()).approximateMessagesCount).to.equal(1));
    const row = await h.ingress.deliveries.get(id);
    expect(row.status).to.equal('received');
    // Hidden until the claim (2 × the 2 s forward timeout + 5 s) has run out, so no router meets the claim.
    expect(Date.parse(row.leaseUntil as string) - Date.now()).to.be.above(5000);
    expect(await takeAnnouncements()).to.deep.equal([]);
  });
});
