import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { startResourceManager, type ResourceManager } from '../../local/resource-manager/start-resource-manager.ts';
import type { StorageAccountView } from '../../local/resource-manager/local-resources.ts';
import { memoryLogger } from '../support/logs.ts';
import { isAlive } from './support/processes.ts';

const layout = { tables: ['events'], queues: ['deliveries'], containers: ['messages'] };

function connectionString(account: StorageAccountView): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account.name};AccountKey=${account.key};BlobEndpoint=${account.blobEndpoint};QueueEndpoint=${account.queueEndpoint};TableEndpoint=${account.tableEndpoint};`;
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local resource manager', function () {
  this.timeout(90_000);
  let stateDir: string;
  let manager: ResourceManager;
  const admin = (method: string, route: string, body?: unknown, token = manager.adminToken) =>
    fetch(`${manager.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-manager-'));
    manager = await startResourceManager({ stateDir, log: memoryLogger().log });
  });
  after(async () => {
    await manager?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('authenticates every admin request and checks names and owners', async () => {
    expect((await admin('GET', '/identities/id-zekt-acme', undefined, 'wrong')).status).to.equal(401);
    expect((await fetch(`${manager.url}/health`)).status).to.equal(401);
    expect((await admin('PUT', '/storage-accounts/Not_Valid', { tenantId: 'acme', layout })).status).to.equal(400);
    expect((await admin('PUT', '/identities/id-zekt-acme', { tenantId: 'Bad Tenant' })).status).to.equal(400);
    expect((await admin('PUT', '/identities/id-zekt-acme', {})).status).to.equal(400);
    const created = await admin('PUT', '/identities/id-zekt-acme', { tenantId: 'acme' });
    expect(created.status).to.equal(200);
    const again = await admin('PUT', '/identities/id-zekt-acme', { tenantId: 'acme' });
    expect(await again.json(), 'a repeated create adopts').to.deep.equal(await created.json());
    expect((await admin('PUT', '/identities/id-zekt-acme', { tenantId: 'globex' })).status, "another tenant's name").to.equal(409);
    expect((await admin('DELETE', '/identities/id-zekt-nobody')).status).to.equal(404);
  });

  it('gives each tenant its own Azurite: its key works, on its data, and survives a restart', async () => {
    const acme = await manager.resources.putStorageAccount('ztacme00000001', { tenantId: 'acme', layout });
    const globex = await manager.resources.putStorageAccount('ztglobex0000001', { tenantId: 'globex', layout });
    expect(new URL(acme.tableEndpoint).port).to.not.equal(new URL(globex.tableEndpoint).port);
    const events = TableClient.fromConnectionString(connectionString(acme), 'events', { allowInsecureConnection: true });
    await events.upsertEntity({ partitionKey: 'p', rowKey: 'kept', value: 42 });
    let status: number | undefined;
    const forged = new TableClient(globex.tableEndpoint, 'events', new AzureNamedKeyCredential(globex.name, acme.key), { allowInsecureConnection: true });
    await forged.listEntities().next().catch((err: { statusCode?: number }) => (status = err.statusCode));
    expect(status).to.equal(403);

    await manager.stop();
    manager = await startResourceManager({ stateDir, log: memoryLogger().log });
    const back = manager.resources.getStorageAccount('ztacme00000001');
    expect(back?.tableEndpoint).to.equal(acme.tableEndpoint);
    const reread = TableClient.fromConnectionString(connectionString(back as StorageAccountView), 'events', { allowInsecureConnection: true });
    expect((await reread.getEntity<{ value: number }>('p', 'kept')).value).to.equal(42);

    await manager.resources.deleteStorageAccount('ztglobex0000001');
    await stat(path.join(stateDir, 'tenants', 'globex')).then(
      () => expect.fail('the deleted account left its data'),
      (err: unknown) => expect((err as NodeJS.ErrnoException).code).to.equal('ENOENT'),
    );
  });

  it('runs a tenant runtime with only its own settings, and restarts it when it dies', async () => {
    const account = manager.resources.getStorageAccount('ztacme00000001') as StorageAccountView;
    const settings = { ZEKT_TENANT_ID: 'acme', ZEKT_LOG_LEVEL: 'warn', ZEKT_STORAGE_CONNECTION_STRING: connectionString(account) };
    const runtime = await manager.resources.putFunctionRuntime('func-zekt-acme-test', { tenantId: 'acme', settings });
    expect(runtime.running).to.equal(true);
    expect((await fetch(`${runtime.baseUrl}/api/health`)).status).to.equal(200);

    const environ = (await readFile(`/proc/${runtime.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
    const names = environ.map((entry) => entry.slice(0, entry.indexOf('=')));
    expect(names.sort()).to.deep.equal([...Object.keys(settings), 'NODE_EXTRA_CA_CERTS', 'ZEKT_HOST', 'ZEKT_PORT'].sort());

    process.kill(runtime.pid as number, 'SIGKILL');
    const restarted = await waitFor(async () => {
      const now = manager.resources.getFunctionRuntime('func-zekt-acme-test');
      if (!now?.running || now.pid === runtime.pid) return undefined;
      const ok = await fetch(`${now.baseUrl}/api/health`).then((r) => r.status === 200, () => false);
      return ok ? now : undefined;
    }, 20_000);
    expect(restarted.baseUrl, 'same port, same URL').to.equal(runtime.baseUrl);
    expect(restarted.restarts).to.equal(1);

    await manager.resources.deleteFunctionRuntime('func-zekt-acme-test');
    expect(isAlive(restarted.pid as number)).to.equal(false);
  });
});
