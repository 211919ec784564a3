/**
 * The benchmarks' storage request counter (ZEKT_BENCH_STORAGE_REQUEST_COUNTS): a process's
 * requests to its own storage account, by method and resource, written to a file — and nothing
 * else it sends over HTTP.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { countStorageRequests, resourceOf, type StorageRequestCounts } from '../../runtime/storage/count-storage-requests.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';

describe('storage: the benchmarks\' request counter', () => {
  it('names a request by its resource: a table (any key), a queue (its messages, one message)', () => {
    expect(resourceOf("/events(PartitionKey='event',RowKey='1-2-3')")).to.equal('events(..)');
    expect(resourceOf('/events?$filter=x')).to.equal('events');
    expect(resourceOf('/deliveries/messages?numofmessages=16')).to.equal('queue deliveries');
    expect(resourceOf('/deliveries/messages/0b5c?popreceipt=x')).to.equal('queue deliveries');
    expect(resourceOf('/$batch')).to.equal('$batch');
  });

  it("counts the requests to the process's storage account, by method and resource, and no others", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'zekt-counts-'));
    const other = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const storage = await sharedStorage();
      const file = path.join(dir, 'counts.json');
      const name = uniqueName('counted');
      const table = storage.table(name);
      countStorageRequests({ accountName: storage.accountName, endpoints: [table.url], file });
      await table.createTable();
      await table.createEntity({ partitionKey: 'p', rowKey: 'r' });
      await table.getEntity('p', 'r');
      await table.getEntity('p', 'r');
      // Another server, even on a path like the account's: not counted.
      await new Promise<void>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${(other.address() as AddressInfo).port}/${storage.accountName}/${name}(x)`, (res) => res.resume().on('end', resolve));
        req.on('error', reject).end();
      });
      await new Promise((r) => setTimeout(r, 1200));
      const report = JSON.parse(await readFile(file, 'utf8')) as StorageRequestCounts;
      expect(report).to.include({ pid: process.pid, accountName: storage.accountName });
      expect(report.counts[`GET ${name}(..)`]).to.equal(2);
      expect(report.counts[`POST ${name}`]).to.equal(1);
    } finally {
      other.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
