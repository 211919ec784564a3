import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createDeliveryCommitter, type DeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import type { Storage } from '../../runtime/storage/create-storage.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

/** Delivery ids that all hash to the same partition: they share one transaction. */
function idsOfOnePartition(count: number, partition = 'd0'): string[] {
  const ids: string[] = [];
  while (ids.length < count) {
    const id = randomUUID();
    if (deliveryPartition(id) === partition) ids.push(id);
  }
  return ids;
}

function record(deliveryId: string): DeliveryRecord {
  const at = new Date().toISOString();
  return { deliveryId, partition: deliveryPartition(deliveryId), event: 'workflow_job', signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes: 2 };
}

describe('ingress: group commit', () => {
  let storage: Storage;
  let committer: DeliveryCommitter;
  let tableName: string;
  let queueName: string;

  beforeEach(async () => {
    storage = await sharedStorage();
    tableName = uniqueName('t');
    queueName = uniqueName('q');
    await storage.ensure({ tables: [tableName], queues: [queueName], containers: [] });
    committer = createDeliveryCommitter({
      table: storage.table(tableName),
      queue: storage.queue(queueName),
      payloads: storage.container('unused'),
      inlineBodyBytes: 48 * 1024,
      log: memoryLogger().log,
    });
  });

  const rowKeys = async () => {
    const keys: string[] = [];
    for await (const e of storage.table(tableName).listEntities<{ rowKey: string }>()) keys.push(e.rowKey);
    return keys.sort();
  };

  it('writes what arrives together as one round: one transaction per partition, one announcement', async () => {
    const ids = [...idsOfOnePartition(3, 'd0'), ...idsOfOnePartition(2, 'd1')];
    const outcomes = await Promise.all(ids.map((id) => committer.persist(record(id), Buffer.from('{}'))));
    expect(outcomes).to.deep.equal(ids.map(() => 'stored'));
    expect(await rowKeys()).to.deep.equal([...ids].sort());
    const messages = (await storage.queue(queueName).receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    expect(messages).to.have.length(1);
    expect((decodeQueueMessage(messages[0]?.messageText ?? '') as { deliveryIds: string[] }).deliveryIds.sort()).to.deep.equal([...ids].sort());
  });

  it('stores the new rows of a transaction that meets an existing one, and answers that one as a duplicate', async () => {
    const [existing, ...fresh] = idsOfOnePartition(4) as [string, ...string[]];
    expect(await committer.persist(record(existing), Buffer.from('{}'))).to.equal('stored');
    // Same tick, same partition: one transaction, which the table refuses once for `existing`.
    const outcomes = await Promise.all([existing, ...fresh].map((id) => committer.persist(record(id), Buffer.from('{}'))));
    expect(outcomes).to.deep.equal(['duplicate', 'stored', 'stored', 'stored']);
    expect(await rowKeys()).to.deep.equal([existing, ...fresh].sort());
  });

  it('answers the same id twice in one round once as stored and once as a duplicate', async () => {
    const [id] = idsOfOnePartition(1) as [string];
    const outcomes = await Promise.all([id, id].map((same) => committer.persist(record(same), Buffer.from('{}'))));
    expect(outcomes).to.deep.equal(['stored', 'duplicate']);
    expect(await rowKeys()).to.deep.equal([id]);
  });

  it('fails every request of a round whose announcement cannot be stored, and keeps their rows', async () => {
    await storage.queue(queueName).delete();
    const ids = idsOfOnePartition(2);
    const outcomes = await Promise.allSettled(ids.map((id) => committer.persist(record(id), Buffer.from('{}'))));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);
    expect(await rowKeys()).to.deep.equal([...ids].sort());
  });
});
