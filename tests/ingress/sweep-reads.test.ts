/**
 * The sweeper asks the table only for the rows it must act on: stalled `received` rows and
 * overdue `retrying` ones, not every row in those states (hardening issue, operations).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createDeliveryStore, type DeliveryQuery, type DeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { deliveryPartition, toEntity, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { sweepDeliveries } from '../../runtime/ingress/sweep-deliveries.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

describe('ingress: the sweeper reads only the rows it must', () => {
  it('gets back the stalled and overdue rows only, and re-announces exactly those', async () => {
    const storage = await sharedStorage();
    const table = storage.table(uniqueName('deliveries'));
    const queue = storage.queue(uniqueName('announce'));
    const payloads = storage.container(uniqueName('payloads'));
    await Promise.all([table.createTable(), queue.create(), payloads.create()]);
    const inner = createDeliveryStore(table, payloads, deliveryPartition);
    const returned: number[] = [];
    const deliveries: DeliveryStore = { ...inner, query: async (q: DeliveryQuery) => { const rows = await inner.query(q); returned.push(rows.length); return rows; } };

    const now = Date.now();
    const row = (status: DeliveryRecord['status'], updatedMsAgo: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => {
      const id = randomUUID();
      const at = new Date(now - updatedMsAgo).toISOString();
      return { deliveryId: id, partition: deliveryPartition(id), event: 'workflow_run', signature: 'sha256', receivedAt: at, status, attempts: 0, updatedAt: at, body: new Uint8Array([123, 125]), bodyBytes: 2, ...extra } as DeliveryRecord;
    };
    const fresh = Array.from({ length: 30 }, () => row('received', 1_000));
    const waiting = Array.from({ length: 10 }, () => row('retrying', 1_000, { nextAttemptAt: new Date(now + 60_000).toISOString() }));
    const stalled = row('received', 10 * 60_000);
    const overdue = row('retrying', 10 * 60_000, { nextAttemptAt: new Date(now - 10 * 60_000).toISOString() });
    for (const r of [...fresh, ...waiting, stalled, overdue]) await table.createEntity(toEntity(r));

    const result = await sweepDeliveries({ deliveries, queue, retentionDays: 30, log: memoryLogger().log, now: () => new Date(now) });
    expect(result).to.deep.equal({ reannounced: 2, purged: 0 });
    expect(returned, 'rows returned per query: received, retrying, past retention').to.deep.equal([1, 1, 0]);
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    const announced = receivedMessageItems.flatMap((m) => JSON.stringify(decodeQueueMessage(m.messageText)));
    expect(announced.join(' ')).to.include(stalled.deliveryId).and.to.include(overdue.deliveryId);
    expect(announced.join(' ')).to.not.include(fresh[0]?.deliveryId);
  });
});
