import { expect } from 'chai';
import { TableClient } from '@azure/data-tables';
import { startAzurite } from '../../local/azurite/start-azurite.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { sharedAzurite } from '../support/azurite.ts';

describe('Azurite, started by the project', () => {
  it('listens on real loopback ports read from its output', async () => {
    const azurite = await sharedAzurite();
    for (const port of [azurite.blobPort, azurite.queuePort, azurite.tablePort]) expect(port).to.be.greaterThan(0);
    expect(new Set([azurite.blobPort, azurite.queuePort, azurite.tablePort]).size).to.equal(3);
    expect(azurite.host).to.equal('127.0.0.1');
  });

  it('serves tables, queues and blobs through the storage layer', async () => {
    const azurite = await sharedAzurite();
    const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
    await storage.ensure({ tables: ['foundation'], queues: ['foundation'], containers: ['foundation'] });
    await storage.table('foundation').upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 7 });
    expect((await storage.table('foundation').getEntity<{ value: number }>('p', 'r')).value).to.equal(7);
    await storage.queue('foundation').sendMessage('eyJ4IjoxfQ==');
    expect((await storage.queue('foundation').peekMessages()).peekedMessageItems[0]?.messageText).to.equal('eyJ4IjoxfQ==');
    await storage.container('foundation').uploadBlockBlob('b.txt', 'hi', 2);
    const blob = await storage.container('foundation').getBlobClient('b.txt').downloadToBuffer();
    expect(blob.toString()).to.equal('hi');
  });

  it("refuses one account's key on another account (403)", async () => {
    const a = { name: 'tenanta', key: Buffer.from('a'.repeat(32)).toString('base64') };
    const b = { name: 'tenantb', key: Buffer.from('b'.repeat(32)).toString('base64') };
    const azurite = await startAzurite({ accounts: [a, b] });
    try {
      const own = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString(a) });
      await own.ensure({ tables: ['events'] });
      // Tenant A's key, tenant B's table endpoint.
      const forged = new TableClient(
        `http://127.0.0.1:${azurite.tablePort}/${b.name}`,
        'events',
        new (await import('@azure/data-tables')).AzureNamedKeyCredential(b.name, a.key),
        { allowInsecureConnection: true },
      );
      let status: number | undefined;
      try {
        await forged.createTable();
      } catch (err) {
        status = (err as { statusCode?: number }).statusCode;
      }
      expect(status).to.equal(403);
    } finally {
      await azurite.stop();
    }
  });

  it('stops cleanly: the process is gone and its port closed', async () => {
    const azurite = await startAzurite();
    await azurite.stop();
    expect(() => process.kill(azurite.pid, 0)).to.throw();
    let refused = false;
    try {
      await fetch(`http://127.0.0.1:${azurite.tablePort}/`);
    } catch {
      refused = true;
    }
    expect(refused).to.equal(true);
  });
});
