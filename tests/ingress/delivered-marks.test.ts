/**
 * The router's `delivered` marks (create-ingress.ts: batch-delivery-updates.ts with a gather and
 * `merge`): written as Merges of every field but the body, under each row's ETag, gathered into
 * one transaction per partition. The row reads afterwards as a replace would have left it — body
 * kept, claim and next attempt gone — and a row that changed meanwhile is refused on its own.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { workflowRunPayload } from '../fixtures/index.ts';
import { eventually, receivedRunRecord, startRouterlessHarness, type IngressHarness } from './support.ts';
import { batchDeliveryUpdates } from '../../runtime/ingress/batch-delivery-updates.ts';
import { createDeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { createDeliveryStore, DeliveryChangedError } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { createRouter } from '../../runtime/ingress/route-delivery.ts';
import { memoryLogger } from '../support/logs.ts';

function idsOfOnePartition(count: number): string[] {
  const ids: string[] = [];
  while (ids.length < count) {
    const id = randomUUID();
    if (deliveryPartition(id) === 'd0') ids.push(id);
  }
  return ids;
}

describe('ingress: the router gathers its delivered marks and leaves the body alone', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startRouterlessHarness();
  });
  afterEach(() => h.close());

  const body = Buffer.from(JSON.stringify(workflowRunPayload()));
  const record = (deliveryId: string) => receivedRunRecord(deliveryId, body.length);

  /** The deliveries table, its transactions' actions recorded (`Merge` / `Replace` / `create`). */
  function countedTable(): { table: TableClient; transactions: string[][] } {
    const table = h.storage.table('deliveries');
    const transactions: string[][] = [];
    const counted = Object.create(table, {
      submitTransaction: {
        value: (actions: TransactionAction[]) => {
          transactions.push(actions.map((a) => (a[0] === 'update' ? String(a[2]) : a[0])));
          return table.submitTransaction(actions);
        },
      },
    }) as TableClient;
    return { table: counted, transactions };
  }

  it('marks deliveries routed at different moments in one transaction of Merges; each row keeps its body and drops its claim', async () => {
    const { table, transactions } = countedTable();
    const store = createDeliveryStore(h.storage.table('deliveries'), h.storage.container('webhook-payloads'), deliveryPartition);
    const router = createRouter({
      deliveries: store,
      deliveredMarks: batchDeliveryUpdates(store, table, { gatherMs: 150, merge: true }),
      installations: h.ingress.installations,
      tenantWebhookUrl: async (tenantId) => h.tenants.get(tenantId)?.webhookUrl,
      forwardSecrets: h.ingress.forwardSecrets,
      queue: h.storage.queue('ingress-deliveries'),
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
      log: memoryLogger().log,
    });
    const committer = createDeliveryCommitter({ table: h.storage.table('deliveries'), queue: h.storage.queue('ingress-deliveries'), payloads: h.storage.container('webhook-payloads'), inlineBodyBytes: 48 * 1024, routeHere: router, log: memoryLogger().log });
    const ids = idsOfOnePartition(3);
    // Three rounds, each routed at once from the intake's copy.
    for (const id of ids) {
      expect(await committer.persist(record(id), body)).to.equal('stored');
      await new Promise((r) => setTimeout(r, 20));
    }
    const tenant = h.tenants.get('acme');
    await eventually(h, async () => {
      for (const id of ids) expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered');
    });
    expect(tenant?.received.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    expect(transactions, 'the marks: one transaction of three Merges').to.deep.equal([['Merge', 'Merge', 'Merge']]);
    for (const id of ids) {
      const row = await h.ingress.deliveries.get(id);
      expect(row.status).to.equal('delivered');
      expect(row.tenantId).to.equal('acme');
      expect(row.attempts).to.equal(1);
      expect(row.deliveredAt).to.be.a('string');
      expect(row.leaseUntil, 'the claim is gone').to.equal(undefined);
      expect((await h.ingress.deliveries.body(row)).equals(body), 'the body is kept').to.equal(true);
    }
  });

  it('refuses a mark whose row changed meanwhile, on its own: the others are written', async () => {
    const store = createDeliveryStore(h.storage.table('deliveries'), h.storage.container('webhook-payloads'), deliveryPartition);
    const marks = batchDeliveryUpdates(store, h.storage.table('deliveries'), { gatherMs: 50, merge: true });
    const committer = createDeliveryCommitter({ table: h.storage.table('deliveries'), queue: h.storage.queue('ingress-deliveries'), payloads: h.storage.container('webhook-payloads'), inlineBodyBytes: 48 * 1024, log: memoryLogger().log });
    const ids = idsOfOnePartition(3);
    for (const id of ids) expect(await committer.persist(record(id), body)).to.equal('stored');
    const rows = await Promise.all(ids.map((id) => store.get(id)));
    // Another router claims the second row first: the mark's ETag is stale.
    await store.update({ ...(rows[1] as DeliveryRecord), leaseUntil: new Date(Date.now() + 60_000).toISOString() });
    const at = new Date().toISOString();
    const outcomes = await Promise.allSettled(rows.map((row) => marks.update({ ...row, status: 'delivered', tenantId: 'acme', attempts: 1, deliveredAt: at, updatedAt: at })));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).to.be.instanceOf(DeliveryChangedError);
    const after = await Promise.all(ids.map((id) => store.get(id)));
    expect(after.map((r) => r.status)).to.deep.equal(['delivered', 'received', 'delivered']);
    expect(after[1]?.leaseUntil, "the other router's claim stands").to.be.a('string');
    for (const row of after) expect((await store.body(row)).equals(body)).to.equal(true);
  });
});
