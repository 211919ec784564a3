import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { QueueClient, StorageSharedKeyCredential } from '@azure/storage-queue';
import { ContainerClient, StorageSharedKeyCredential as BlobKeyCredential } from '@azure/storage-blob';
import { SecretClient } from '@azure/keyvault-secrets';
import { enqueueDeprovisioning, enqueueProvisioning, enqueueReconcile } from '../../automation/enqueue-provisioning.ts';
import { provisionTenant } from '../../automation/provision-tenant.ts';
import type { TenantRecord } from '../../automation/tenant-registry.ts';
import { localVaultClientOptions } from '../../local/start-local-control-plane.ts';
import { createLocalIdentityCredential } from '../../runtime/core/local-identity.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { tenantOutputKeys, tenantStorageLayout, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import { platformForwardSecretName, tenantSecretNames } from '../../tenant-stack/tenant-secrets.ts';
import { startControlPlaneFixture, type ControlPlaneFixture } from './support/control-plane-fixture.ts';
import { descendants, engineProcesses, isAlive, waitGone } from './support/processes.ts';

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function statusFrom(call: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await call();
    return 200;
  } catch (err) {
    return statusOf(err);
  }
}

describe('control plane: tenant lifecycle on the local target (real engine)', function () {
  this.timeout(240_000);
  let fx: ControlPlaneFixture;
  const tenants = ['acme', 'globex', 'initech', 'umbrella'] as const;

  const deps = () => ({ registry: fx.controlPlane.registry, jobs: fx.controlPlane.jobs });
  const ready = async (tenantId: string) => {
    const record = await fx.controlPlane.registry.require(tenantId);
    expect(record.status, `${tenantId}: ${JSON.stringify(record.lastError)}`).to.equal('ready');
    return record as TenantRecord & { outputs: TenantStackOutputs };
  };
  /** The tenant's credentials, as only the resource manager (admin) knows them. */
  const credentials = (record: TenantRecord) => {
    const names = tenantResourceNames(record.tenantId, record.creationId);
    const account = fx.controlPlane.manager.resources.getStorageAccount(names.storageAccount);
    const identity = fx.controlPlane.manager.resources.getIdentity(names.identity);
    if (!account || !identity) throw new Error(`no credentials for ${record.tenantId}`);
    return { accountName: account.name, key: account.key, identity: { clientId: identity.clientId, secret: identity.clientSecret } };
  };
  const vaultClient = (vaultUri: string, identity: { clientId: string; secret: string }) =>
    new SecretClient(vaultUri, createLocalIdentityCredential(identity), localVaultClientOptions(fx.controlPlane.manager.caCert));

  before(async () => {
    fx = await startControlPlaneFixture({ ZEKT_PROVISIONING_PARALLELISM: '4' });
  });
  after(async () => {
    await fx?.stop();
  });

  it('provisions four tenants in parallel, each ready with every output, its storage, vault and runtime answering', async () => {
    const requested = await Promise.all(tenants.map((id) => enqueueProvisioning(deps(), id)));
    for (const { record } of requested) expect(record.status).to.equal('requested');
    const outcomes = await Promise.all(requested.map(({ job }) => fx.controlPlane.worker.run(job as NonNullable<typeof job>)));
    expect(outcomes).to.deep.equal(['done', 'done', 'done', 'done']);

    for (const tenantId of tenants) {
      const record = await ready(tenantId);
      for (const key of tenantOutputKeys) expect(record.outputs[key], `${tenantId}.${key}`).to.be.a('string').and.not.equal('');
      expect(record.outputs.tenantId).to.equal(tenantId);
      expect(record.outputs.webhookUrl).to.equal(`${record.outputs.baseUrl}/api/webhooks`);
      expect(record.progress?.total).to.be.greaterThan(0);
      expect(record.progress?.done).to.equal(record.progress?.total);
      expect(record.attempts).to.equal(1);

      const health = await fetch(`${record.outputs.baseUrl}/api/health`);
      expect(health.status).to.equal(200);

      const { accountName, key, identity } = credentials(record);
      expect(accountName).to.equal(record.outputs.storageAccountName);
      const tables = new TableClient(record.outputs.tableEndpoint, 'events', new AzureNamedKeyCredential(accountName, key), { allowInsecureConnection: true });
      await tables.upsertEntity({ partitionKey: 'p', rowKey: 'r', seen: true });
      const queue = new QueueClient(`${record.outputs.queueEndpoint}/${tenantStorageLayout.queues[0]}`, new StorageSharedKeyCredential(accountName, key));
      expect(await queue.exists()).to.equal(true);
      const container = new ContainerClient(`${record.outputs.blobEndpoint}/${tenantStorageLayout.containers[0]}`, new BlobKeyCredential(accountName, key));
      expect(await container.exists()).to.equal(true);

      const vault = vaultClient(record.outputs.vaultUri, identity);
      const forward = await vault.getSecret(tenantSecretNames.forwardSigningSecret);
      expect(forward.value).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect((await vault.getSecret(tenantSecretNames.messageEncryptionKey)).value).to.have.length(44);
      const inPlatformVault = await fx.controlPlane.platformVault.getSecret(platformForwardSecretName(tenantId));
      expect(inPlatformVault.value).to.equal(forward.value);
    }
  });

  it('runs a second up as a no-op: zero changes', async () => {
    const record = await ready('acme');
    const lease = await fx.controlPlane.leases.acquire('acme', 'provision');
    try {
      const result = await provisionTenant(fx.controlPlane.stacks, { record, lease, onProgress: () => undefined });
      const changed = Object.entries(result.changes).filter(([op, count]) => op !== 'same' && count > 0);
      expect(changed).to.deep.equal([]);
      expect(result.changes.same).to.be.greaterThan(0);
      expect(result.outputs).to.deep.equal(record.outputs);
    } finally {
      await lease.release();
    }
  });

  it('runs one update for two copies of the same job (at-least-once delivery)', async () => {
    const { job } = await enqueueProvisioning(deps(), 'hooli');
    const again = await enqueueProvisioning(deps(), 'hooli');
    expect(again.job).to.deep.equal(job);
    const outcomes = await Promise.all([fx.controlPlane.worker.run(job as NonNullable<typeof job>), fx.controlPlane.worker.run(job as NonNullable<typeof job>)]);
    expect([...outcomes].sort()).to.deep.equal(['done', 'duplicate']);
    expect(await fx.controlPlane.worker.run(job as NonNullable<typeof job>)).to.equal('duplicate');
    const record = await ready('hooli');
    expect(record.attempts).to.equal(1);
    const stack = await fx.controlPlane.stacks.workspaces.open('hooli', { mode: 'select', program: fx.controlPlane.stacks.programFor(record), config: {} });
    const history = await stack.history();
    expect(history.filter((h) => h.kind === 'update')).to.have.length(1);
  });

  it("refuses tenant A's storage and vault credentials on tenant B's", async () => {
    const a = await ready('acme');
    const b = await ready('globex');
    const credA = credentials(a);
    const credB = credentials(b);
    const insecure = { allowInsecureConnection: true };
    // A's key signing requests for B's account, on B's endpoints: 403 on every service.
    const forgedTables = new TableClient(b.outputs.tableEndpoint, 'events', new AzureNamedKeyCredential(credB.accountName, credA.key), insecure);
    expect(await statusFrom(() => forgedTables.listEntities().next()), 'table').to.equal(403);
    const forgedQueue = new QueueClient(`${b.outputs.queueEndpoint}/deliveries`, new StorageSharedKeyCredential(credB.accountName, credA.key));
    expect(await statusFrom(() => forgedQueue.peekMessages()), 'queue').to.equal(403);
    const forgedContainer = new ContainerClient(`${b.outputs.blobEndpoint}/messages`, new BlobKeyCredential(credB.accountName, credA.key));
    expect(await statusFrom(() => forgedContainer.listBlobsFlat().next()), 'blob').to.equal(403);
    // A's own account name and key on B's endpoints: B's Azurite has no such account.
    const foreign = new TableClient(b.outputs.tableEndpoint.replace(credB.accountName, credA.accountName), 'events', new AzureNamedKeyCredential(credA.accountName, credA.key), insecure);
    expect(await statusFrom(() => foreign.listEntities().next())).to.be.oneOf([403, 404]);
    // A's identity on B's vault, and on the platform's vault.
    expect(await statusFrom(() => vaultClient(b.outputs.vaultUri, credA.identity).getSecret(tenantSecretNames.forwardSigningSecret))).to.equal(403);
    expect(await statusFrom(() => vaultClient(fx.controlPlane.manager.platform.vaultUrl, credA.identity).getSecret('pulumi-passphrase'))).to.equal(403);
    // And B's own credentials work, so the 403s are about A.
    expect(await statusFrom(() => vaultClient(b.outputs.vaultUri, credB.identity).getSecret(tenantSecretNames.forwardSigningSecret))).to.equal(200);
  });

  it('keeps no secret in clear in the stack state, the registry or the logs', async () => {
    const record = await ready('acme');
    const { key, identity } = credentials(record);
    const forward = (await vaultClient(record.outputs.vaultUri, identity).getSecret(tenantSecretNames.forwardSigningSecret)).value as string;
    const passphrase = (await fx.controlPlane.platformVault.getSecret('pulumi-passphrase')).value as string;
    const secrets = [key, identity.secret, forward, passphrase, fx.controlPlane.manager.adminToken];
    const stateFile = path.join(fx.stateDir, 'pulumi', '.pulumi', 'stacks', 'zekt-tenant', 'tenant-acme.json');
    const state = await readFile(stateFile, 'utf8');
    const registry = JSON.stringify(await fx.controlPlane.registry.list());
    const managerState = await readFile(path.join(fx.stateDir, 'resource-manager', 'state.json.enc'), 'utf8');
    const workspace = await readdir(fx.controlPlane.stacks.workspaces.workDir('acme'));
    const stackSettings = await Promise.all(workspace.map((f) => readFile(path.join(fx.controlPlane.stacks.workspaces.workDir('acme'), f), 'utf8')));
    for (const secret of secrets) {
      expect(state, 'stack state').to.not.include(secret);
      expect(registry, 'registry').to.not.include(secret);
      expect(managerState, 'resource manager state').to.not.include(secret);
      expect(fx.logs.raw.join(''), 'logs').to.not.include(secret);
      for (const file of stackSettings) expect(file, 'stack settings').to.not.include(secret);
    }
    // The serialised dynamic providers capture only their helpers and globals.
    const providers = [...state.matchAll(/"__provider":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(providers.length).to.be.greaterThan(0);
    for (const source of providers) expect(source).to.not.match(/managerToken:\s*"|adminToken|passphrase/i);
  });

  it('finds resources deleted or stopped behind Pulumi’s back and repairs them (reconcile)', async () => {
    const record = await ready('initech');
    const names = tenantResourceNames('initech', record.creationId);
    const { identity } = credentials(record);
    const before = (await vaultClient(record.outputs.vaultUri, identity).getSecret(tenantSecretNames.forwardSigningSecret)).value;
    // Behind Pulumi's back: delete the tenant's vault through the manager's API.
    const deleted = await fetch(`${fx.controlPlane.manager.url}/vaults/${names.keyVault}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${fx.controlPlane.manager.adminToken}` },
    });
    expect(deleted.status).to.equal(204);
    expect(fx.controlPlane.manager.resources.getVault(names.keyVault)).to.equal(undefined);
    // And another tenant's Azurite dies behind Pulumi's back.
    const globex = await ready('globex');
    const globexAzurite = (await descendants(process.pid)).find((p) => p.command.includes('azurite') && p.command.includes(globex.outputs.storageAccountName));
    expect(globexAzurite, "globex's Azurite").to.not.equal(undefined);
    process.kill(globexAzurite?.pid as number, 'SIGKILL');
    await waitGone([globexAzurite?.pid as number]);

    // And a tenant marked failed (say, its last update timed out) is repaired by reconcile too.
    await fx.controlPlane.registry.update('hooli', (r) => ({ ...r, status: 'failed', lastError: { name: 'StackOperationTimeoutError', message: 'timed out', at: new Date().toISOString() } }));

    const tenantIds = ['initech', 'umbrella', 'globex', 'hooli'];
    const { runId } = await enqueueReconcile({ jobs: fx.controlPlane.jobs, runs: fx.controlPlane.runs }, { tenantIds });
    expect(await fx.controlPlane.worker.run({ kind: 'reconcile', runId, tenantIds })).to.equal('done');
    const run = await fx.controlPlane.runs.get(runId);
    expect(run?.status).to.equal('done');
    const byTenant = Object.fromEntries((run?.report?.tenants ?? []).map((t) => [t.tenantId, t]));
    expect(byTenant.umbrella?.outcome).to.equal('in-sync');
    expect(byTenant.initech?.outcome).to.equal('repaired');
    expect(byTenant.initech?.drifted.map((d) => `${d.type}:${d.op}`)).to.include('pulumi-nodejs:dynamic/zekt-local:Vault:delete');
    expect(byTenant.initech?.repaired.map((d) => `${d.type}:${d.op}`)).to.include('pulumi-nodejs:dynamic/zekt-local:Vault:create');

    expect(byTenant.hooli?.outcome).to.equal('in-sync');
    const hooli = await ready('hooli');
    expect(hooli.lastError).to.equal(undefined);
    expect(byTenant.globex?.outcome).to.equal('repaired');
    expect(byTenant.globex?.drifted.map((d) => `${d.type}:${d.op}`)).to.include('pulumi-nodejs:dynamic/zekt-local:StorageAccount:update');
    const { accountName, key } = credentials(globex);
    const tables = new TableClient(globex.outputs.tableEndpoint, 'events', new AzureNamedKeyCredential(accountName, key), { allowInsecureConnection: true });
    expect(await statusFrom(() => tables.listEntities().next()), "globex's storage answers again").to.equal(200);

    const repaired = await ready('initech');
    expect(repaired.lastReconcile?.drifted).to.be.greaterThan(0);
    const after = (await vaultClient(repaired.outputs.vaultUri, identity).getSecret(tenantSecretNames.forwardSigningSecret)).value;
    expect(after, 'the same secret is written back').to.equal(before);
  });

  it('destroys a tenant: its resources are gone and its credentials stop working', async () => {
    const record = await ready('umbrella');
    const names = tenantResourceNames('umbrella', record.creationId);
    const { accountName, key, identity } = credentials(record);
    const runtime = fx.controlPlane.manager.resources.getFunctionRuntime(names.functionApp);
    expect(runtime?.pid).to.be.a('number');
    const dataDir = path.join(fx.stateDir, 'tenants', 'umbrella');
    expect((await stat(dataDir)).isDirectory()).to.equal(true);

    const { job } = await enqueueDeprovisioning(deps(), 'umbrella');
    expect(await fx.controlPlane.worker.run(job as NonNullable<typeof job>)).to.equal('done');
    const deleted = await fx.controlPlane.registry.require('umbrella');
    expect(deleted.status).to.equal('deleted');
    expect(deleted.outputs).to.equal(undefined);

    expect(isAlive(runtime?.pid as number), 'runtime process').to.equal(false);
    expect(fx.controlPlane.manager.resources.getStorageAccount(names.storageAccount)).to.equal(undefined);
    expect(fx.controlPlane.manager.resources.getVault(names.keyVault)).to.equal(undefined);
    expect(fx.controlPlane.manager.resources.getIdentity(names.identity)).to.equal(undefined);
    await stat(dataDir).then(
      () => expect.fail('the tenant data folder is still there'),
      (err: unknown) => expect((err as NodeJS.ErrnoException).code).to.equal('ENOENT'),
    );
    // Its storage key reaches nothing, its vault is gone, and the platform forgot its forward secret.
    // No retries: a refused connection is the answer here, not a blip.
    const noRetry = { retryOptions: { maxRetries: 0 } };
    const tables = new TableClient(record.outputs.tableEndpoint, 'events', new AzureNamedKeyCredential(accountName, key), { allowInsecureConnection: true, ...noRetry });
    let refused = false;
    await tables.listEntities().next().catch(() => (refused = true));
    expect(refused).to.equal(true);
    let vaultRefused = false;
    const goneVault = new SecretClient(record.outputs.vaultUri, createLocalIdentityCredential(identity), {
      ...localVaultClientOptions(fx.controlPlane.manager.caCert),
      ...noRetry,
    });
    await goneVault.getSecret(tenantSecretNames.forwardSigningSecret).catch(() => (vaultRefused = true));
    expect(vaultRefused).to.equal(true);
    expect(await statusFrom(() => fx.controlPlane.platformVault.getSecret(platformForwardSecretName('umbrella')))).to.equal(404);
    expect(await fetch(`${record.outputs.baseUrl}/api/health`).then(() => 'answered', () => 'refused')).to.equal('refused');
  });

  it('refuses a provisioning job for a deleted tenant and runs nothing', async () => {
    const record = await fx.controlPlane.registry.require('umbrella');
    expect(record.status).to.equal('deleted');
    const outcome = await fx.controlPlane.worker.run({ kind: 'provision', tenantId: 'umbrella', requestId: record.requestId });
    expect(outcome).to.equal('refused');
    const after = await fx.controlPlane.registry.require('umbrella');
    expect(after.status).to.equal('deleted');
    expect(after.updatedAt).to.equal(record.updatedAt);
  });

  it('leaves no engine or plugin process running after its operations', async () => {
    expect(engineProcesses(await descendants(process.pid))).to.deep.equal([]);
  });
});
