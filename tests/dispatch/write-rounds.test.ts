/**
 * The tenant's writes in rounds (storage/group-commit.ts): takers of one installation's budget
 * asking together share one write of its row, and delivery records replaced together share one
 * transaction — with the same answers as one request each: never a slot over the budget, and a
 * record changed meanwhile refused on its own while the others are written. Records of different
 * events created together (the fan-outs of one forwarded batch) share one transaction too.
 */
import { expect } from 'chai';
import { createRateBudget } from '../../runtime/tenant/dispatch/rate-budget.ts';
import { createDeliveryStore, DeliveryChangedError, type StoredDelivery } from '../../runtime/tenant/dispatch/delivery-store.ts';
import type { DeliveryRecord } from '../../runtime/tenant/dispatch/delivery-record.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { requestsDuring } from '../support/requests-during.ts';

/** The requests made to one table (and transactions) while `during` runs, as `<method> <resource>`. */
async function requestsTo(tableName: string, during: () => Promise<void>): Promise<string[]> {
  return (await requestsDuring(during))
    .filter((r) => r.path.includes(`/${tableName}`) || r.path.endsWith('/$batch'))
    .map((r) => `${r.method} ${r.path.replace(/^.*\//, '')}`);
}

async function freshTable() {
  const storage = await sharedStorage();
  const name = uniqueName('rounds');
  const table = storage.table(name);
  await table.createTable();
  return { table, name };
}

describe('orchestration: the tenant\'s writes in rounds', () => {
  it('serves takers asking together with one write of the budget row', async () => {
    const { table, name } = await freshTable();
    const budget = createRateBudget({ table, perMinute: 10, perHour: 100, marginMs: 0 });
    let answers: { granted: boolean }[] = [];
    const requests = await requestsTo(name, async () => {
      answers = await Promise.all(Array.from({ length: 5 }, () => budget.acquire(3)));
    });
    expect(answers.map((a) => a.granted)).to.deep.equal([true, true, true, true, true]);
    // The row is read (it does not exist yet) and created once with the five stamps.
    expect(requests.filter((r) => r.startsWith('POST') || r.startsWith('PUT') || r.startsWith('MERGE'))).to.have.length(1);
    expect(await budget.stamps(3)).to.have.length(5);
  });

  it('grants a round no more than the window has room for, in order, and tells the rest when', async () => {
    const { table } = await freshTable();
    let at = 5_000_000;
    const budget = createRateBudget({ table, perMinute: 3, perHour: 100, marginMs: 0, holdMs: 0, now: () => at });
    const answers = await Promise.all(Array.from({ length: 5 }, () => budget.acquire(4)));
    expect(answers.map((a) => a.granted)).to.deep.equal([true, true, true, false, false]);
    for (const answer of answers.slice(3)) expect(answer.granted ? 0 : answer.waitMs).to.equal(60_000);
    expect(await budget.stamps(4)).to.deep.equal([at, at, at]);
    // The next minute has room for three again.
    at += 60_001;
    const later = await Promise.all(Array.from({ length: 4 }, () => budget.acquire(4)));
    expect(later.map((a) => a.granted)).to.deep.equal([true, true, true, false]);
  });

  it('replaces records changed together in one transaction, and refuses only the one whose ETag is stale', async () => {
    const { table, name } = await freshTable();
    const store = createDeliveryStore(table);
    const at = new Date().toISOString();
    const record = (id: string): DeliveryRecord => ({
      id, eventId: 'e1', consumer: { id: 1, fullName: 'acme/deploy' }, eventType: 'zekt', status: 'queued',
      attempts: 0, retries: 0, generation: 1, correlationId: `c-${id}`, createdAt: at, updatedAt: at,
    });
    const created = await store.createAllIfAbsent(['e1.1', 'e1.2', 'e1.3'].map(record));
    const [one, two, three] = created as [StoredDelivery, StoredDelivery, StoredDelivery];
    let outcomes: PromiseSettledResult<string>[] = [];
    const requests = await requestsTo(name, async () => {
      outcomes = await Promise.allSettled([
        store.replace({ ...one.record, status: 'dispatched' }, one.etag),
        store.replace({ ...two.record, status: 'dispatched' }, two.etag),
      ]);
    });
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled']);
    expect(requests, 'one transaction').to.deep.equal(['POST $batch']);
    // A round with a stale ETag (record two was just replaced): nothing of the transaction is
    // written, then each on its own — three is written, two is refused.
    const again = await Promise.allSettled([
      store.replace({ ...two.record, status: 'dead' }, two.etag),
      store.replace({ ...three.record, status: 'dispatched' }, three.etag),
    ]);
    expect(again[0].status).to.equal('rejected');
    expect((again[0] as PromiseRejectedResult).reason).to.be.instanceOf(DeliveryChangedError);
    expect(again[1].status).to.equal('fulfilled');
    expect((await store.read('e1.2'))?.record.status).to.equal('dispatched');
    expect((await store.read('e1.3'))?.record.status).to.equal('dispatched');
  });

  it('creates records of different events asked for together in one transaction, and tells the caller whose record exists', async () => {
    const { table, name } = await freshTable();
    const store = createDeliveryStore(table);
    const at = new Date().toISOString();
    const record = (eventId: string): DeliveryRecord => ({
      id: `${eventId}.1`, eventId, consumer: { id: 1, fullName: 'acme/deploy' }, eventType: 'zekt', status: 'queued',
      attempts: 0, retries: 0, generation: 1, correlationId: `c-${eventId}`, createdAt: at, updatedAt: at,
    });
    let created: (StoredDelivery | undefined)[] = [];
    const requests = await requestsTo(name, async () => {
      created = await Promise.all(['e1', 'e2', 'e3'].map((e) => store.createIfAbsent(record(e))));
    });
    expect(requests, 'one transaction').to.deep.equal(['POST $batch']);
    expect(created.map((c) => c?.record.id)).to.deep.equal(['e1.1', 'e2.1', 'e3.1']);
    // e2's record exists now: asked for again beside a new one, it is answered as existing, the new one created.
    const again = await Promise.all([store.createIfAbsent({ ...record('e2'), status: 'dead' }), store.createIfAbsent(record('e4'))]);
    expect(again.map((c) => c?.record.id)).to.deep.equal([undefined, 'e4.1']);
    expect((await store.read('e2.1'))?.record.status).to.equal('queued');
  });
});
