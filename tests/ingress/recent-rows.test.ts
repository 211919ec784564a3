/**
 * The intake hands the rows it writes to the router of its own process (recent-rows.ts): the
 * router routes them without reading them back, and a copy that is no longer the row (another
 * router delivered it, an operator replayed it, the purge removed it) is caught by the claim's
 * ETag and the row is read instead — nothing is forwarded twice, nothing is lost.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowRunPayload } from '../fixtures/index.ts';
import { routerByHand, startIngressHarness, type IngressHarness } from './support.ts';
import { createRecentRows } from '../../runtime/ingress/recent-rows.ts';
import { createDeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { createDeliveryStore, type DeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { createRouter } from '../../runtime/ingress/route-delivery.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { memoryLogger } from '../support/logs.ts';

describe('ingress: rows handed from the intake to the router of its process', () => {
  let h: IngressHarness;
  /** The harness's own router (it shares the intake's recent rows), called by hand. */
  let route: (message: unknown) => Promise<unknown>;
  beforeEach(async () => {
    h = await startIngressHarness({}, { router: false });
    route = routerByHand(h);
  });
  afterEach(() => h.close());

  /** The announcements the intake queued (the harness runs no router of its own). */
  async function takeAnnouncements(): Promise<unknown[]> {
    const queue = h.storage.queue('ingress-deliveries');
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    for (const m of receivedMessageItems) await queue.deleteMessage(m.messageId, m.popReceipt);
    return receivedMessageItems.map((m) => decodeQueueMessage(m.messageText));
  }

  /** A router of another instance: the same storage, none of this process's recent rows. */
  function otherRouter() {
    return createRouter({
      deliveries: h.ingress.deliveries,
      installations: h.ingress.installations,
      tenantWebhookUrl: async (tenantId) => h.tenants.get(tenantId)?.webhookUrl,
      forwardSecrets: h.ingress.forwardSecrets,
      queue: h.storage.queue('ingress-deliveries'),
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
      log: memoryLogger().log,
    });
  }

  async function sendOne(): Promise<string> {
    const id = randomUUID();
    const res = await h.send('workflow_run', workflowRunPayload(), { deliveryId: id });
    expect(res.status).to.equal(202);
    return id;
  }

  it('forwards once when another router delivered the row first', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = await sendOne();
    const [announcement] = await takeAnnouncements();
    await otherRouter().handleAnnouncement(announcement);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
    await route(announcement); // this process still holds the row as the intake wrote it
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
    expect((await h.ingress.deliveries.get(id))).to.include({ status: 'delivered', attempts: 1 });
  });

  it('routes the row as it is now when it changed after the intake wrote it (a replay)', async () => {
    const tenant = await h.addTenant('acme');
    const id = await sendOne();
    const [first] = await takeAnnouncements();
    // Unbound: another router parks it; binding later releases it; an operator replays it meanwhile.
    await otherRouter().handleAnnouncement(first);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('parked');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    await h.ingress.replay(id);
    const [replayed] = await takeAnnouncements();
    await route(replayed);
    expect(tenant.received).to.deep.equal([{ id, status: 200 }]);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
  });

  it('gives up without failing the message when the row was purged after the intake wrote it', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    const id = await sendOne();
    const [announcement] = await takeAnnouncements();
    await h.ingress.deliveries.remove(await h.ingress.deliveries.get(id));
    await route(announcement); // resolves: nothing to retry
    expect(tenant.received).to.deep.equal([]);
    expect(h.lines.some((l) => l.deliveryId === id && String(l.msg).includes('has no row'))).to.equal(true);
  });

  it('does not read back the rows its own intake wrote, and still reads the ones it did not', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    // An intake and router pair of its own on the same storage, its reads counted.
    const table = h.storage.table('deliveries');
    const queue = h.storage.queue('ingress-deliveries');
    const payloads = h.storage.container('webhook-payloads');
    const store = createDeliveryStore(table, payloads, deliveryPartition);
    const reads: string[] = [];
    const counted: DeliveryStore = { ...store, get: (deliveryId) => (reads.push(deliveryId), store.get(deliveryId)) };
    const recentRows = createRecentRows();
    const { log } = memoryLogger();
    const committer = createDeliveryCommitter({ table, queue, payloads, inlineBodyBytes: 48 * 1024, recentRows, log });
    const router = createRouter({ ...routerParts(), deliveries: counted, recentRows, queue, log });
    const at = new Date().toISOString();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const body = Buffer.from(JSON.stringify(workflowRunPayload()));
    const record = (deliveryId: string): DeliveryRecord => ({
      deliveryId, partition: deliveryPartition(deliveryId), event: 'workflow_run', action: 'completed', installationId: 4242,
      signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes: body.length,
    });
    // Two in one round (a transaction), one alone (a single insert).
    await Promise.all(ids.slice(0, 2).map((id) => committer.persist(record(id), body)));
    await committer.persist(record(ids[2] as string), body);
    await takeAnnouncements();
    await router.handleAnnouncement({ deliveryIds: ids });
    expect(reads, 'rows read back').to.deep.equal([]);
    expect(tenant.received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    // A second announcement of the same rows (the sweeper's, say) reads them: they are delivered.
    await router.handleAnnouncement({ deliveryIds: ids });
    expect(reads.sort()).to.deep.equal([...ids].sort());
    expect(tenant.received).to.have.length(3);
  });

  function routerParts() {
    return {
      installations: h.ingress.installations,
      tenantWebhookUrl: async (tenantId: string) => h.tenants.get(tenantId)?.webhookUrl,
      forwardSecrets: h.ingress.forwardSecrets,
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
    };
  }
});

describe('recent rows', () => {
  const row = (deliveryId: string, etag?: string): DeliveryRecord => ({
    deliveryId, partition: deliveryPartition(deliveryId), event: 'push', signature: 'sha256', receivedAt: '', status: 'received',
    attempts: 0, updatedAt: '', bodyBytes: 2, body: new Uint8Array([123, 125]), ...(etag ? { etag } : {}),
  });

  it('hands a row out once, and never one without the ETag of its insert', () => {
    const rows = createRecentRows();
    rows.remember([row('a', 'e1'), row('b')]);
    expect(rows.take('a')?.etag).to.equal('e1');
    expect(rows.take('a')).to.equal(undefined);
    expect(rows.take('b')).to.equal(undefined);
  });

  it('forgets the oldest rows beyond its count, and rows older than its age', () => {
    let clock = 0;
    const rows = createRecentRows({ maxRows: 2, maxAgeMs: 1000, now: () => clock });
    rows.remember([row('a', 'e'), row('b', 'e'), row('c', 'e')]);
    expect(rows.take('a')).to.equal(undefined);
    expect(rows.take('b')?.deliveryId).to.equal('b');
    clock = 1001;
    expect(rows.take('c')).to.equal(undefined);
  });
});
