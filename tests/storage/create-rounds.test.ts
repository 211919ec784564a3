/**
 * Create-if-absent in rounds (runtime/storage/create-rounds.ts), against Azurite: rows of one
 * partition asked for together go in one transaction; a row that exists makes the transaction
 * fail whole, and then each caller still gets its own answer; other partitions go on their own;
 * the same key twice in one turn is created once.
 */
import { expect } from 'chai';
import type { TableClient } from '@azure/data-tables';
import { createCreateRounds } from '../../runtime/storage/create-rounds.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { requestsDuring, type SeenRequest } from '../support/requests-during.ts';

const row = (partitionKey: string, rowKey: string) => ({ partitionKey, rowKey, note: `row ${rowKey}` });
const batches = (seen: SeenRequest[]) => seen.filter((r) => r.method === 'POST' && r.path.endsWith('/$batch')).length;
const inserts = (seen: SeenRequest[], table: string) => seen.filter((r) => r.method === 'POST' && r.path.endsWith(`/${table}`)).length;

describe('storage: create-if-absent in rounds', () => {
  let table: TableClient;
  let name: string;
  beforeEach(async () => {
    const storage = await sharedStorage();
    name = uniqueName('creates');
    await storage.ensure({ tables: [name] });
    table = storage.table(name);
  });

  it('creates rows of one partition asked for together in one transaction, each answered with its ETag', async () => {
    const rounds = createCreateRounds(table);
    let answers: ({ etag: string } | undefined)[] = [];
    const seen = await requestsDuring(async () => {
      answers = await Promise.all(['a', 'b', 'c'].map((k) => rounds.createIfAbsent(row('p', k))));
    });
    expect(batches(seen)).to.equal(1);
    expect(inserts(seen, name)).to.equal(0);
    expect(answers.every((a) => typeof a?.etag === 'string' && a.etag.length > 0)).to.equal(true);
    const stored = [];
    for await (const entity of table.listEntities<{ note: string }>()) stored.push(`${entity.rowKey}:${entity.note}`);
    expect(stored.sort()).to.deep.equal(['a:row a', 'b:row b', 'c:row c']);
  });

  it('answers undefined to the caller whose row exists, and still creates the others', async () => {
    await table.createEntity({ ...row('p', 'b'), note: 'the first' });
    const rounds = createCreateRounds(table);
    const answers = await Promise.all(['a', 'b', 'c'].map((k) => rounds.createIfAbsent(row('p', k))));
    expect(answers.map((a) => a !== undefined)).to.deep.equal([true, false, true]);
    // The existing row is left as it was.
    expect((await table.getEntity<{ note: string }>('p', 'b')).note).to.equal('the first');
    expect((await table.getEntity<{ note: string }>('p', 'a')).note).to.equal('row a');
  });

  it('inserts a row asked for alone with a plain insert, and keeps partitions apart', async () => {
    const rounds = createCreateRounds(table);
    const seen = await requestsDuring(async () => {
      await rounds.createIfAbsent(row('alone', 'x'));
      await Promise.all([rounds.createIfAbsent(row('p1', 'y')), rounds.createIfAbsent(row('p2', 'z'))]);
    });
    expect(batches(seen)).to.equal(0);
    expect(inserts(seen, name)).to.equal(3);
  });

  it('creates the same key asked for twice in one turn once: the second caller learns it exists', async () => {
    const rounds = createCreateRounds(table);
    const answers = await Promise.all([rounds.createIfAbsent(row('p', 'same')), rounds.createIfAbsent({ ...row('p', 'same'), note: 'second' })]);
    expect(answers.map((a) => a !== undefined)).to.deep.equal([true, false]);
    expect((await table.getEntity<{ note: string }>('p', 'same')).note).to.equal('row same');
  });

  it('fails every caller of a round the table refuses for another reason, and writes none of it', async () => {
    const rounds = createCreateRounds(table);
    // A row key with a character Azure Tables forbids: the transaction is refused with a 400.
    const results = await Promise.allSettled([rounds.createIfAbsent(row('p', 'good')), rounds.createIfAbsent(row('p', 'bad/key'))]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    const stored = [];
    for await (const entity of table.listEntities()) stored.push(entity.rowKey);
    expect(stored).to.deep.equal([]);
  });
});
