/**
 * A failed reconcile leaves a serving tenant serving (`ready`, with the reason in
 * `reconcileError`, retried by the next run); only a tenant that was not serving stays `failed`.
 * And the reconcile timer asks for a run over the ready tenants. The stack operations are scripted
 * here (the real engine's reconcile is covered in tenant-lifecycle.test.ts); registry, leases,
 * runs and queue are real, on Azurite.
 */
import os from 'node:os';
import { expect } from 'chai';
import { createTenantRegistry, type TenantRegistry } from '../../automation/tenant-registry.ts';
import { createTenantLeases } from '../../automation/tenant-lease.ts';
import { createJobQueue } from '../../automation/provisioning-jobs.ts';
import { createReconcileRuns } from '../../automation/reconcile-runs.ts';
import { enqueueReconcile } from '../../automation/enqueue-provisioning.ts';
import { createProvisioningWorker } from '../../automation/provisioning-worker.ts';
import type { TenantStackDeps } from '../../automation/provision-tenant.ts';
import { tenantOutputKeys, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import { startAzurite, type AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { loadConfig } from '../../runtime/config.ts';
import { cachedSecretStore } from '../../runtime/core/secret-store.ts';
import { createPlatformParts } from '../../runtime/platform/create-platform-parts.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

const outputsOf = (tenantId: string): TenantStackOutputs =>
  Object.fromEntries(tenantOutputKeys.map((key) => [key, key === 'tenantId' ? tenantId : `${key}-of-${tenantId}`])) as unknown as TenantStackOutputs;

/** Stack operations that fail while `broken` is set, and otherwise find nothing to change. */
function scriptedStacks(registry: TenantRegistry, state: { broken: boolean }): TenantStackDeps {
  return {
    workspaces: {
      open: async (tenantId: string) => {
        if (state.broken) throw new Error(`engine: refresh of tenant-${tenantId} failed: connect ECONNREFUSED`);
        const outputs = Object.fromEntries(Object.entries(outputsOf(tenantId)).map(([k, v]) => [k, { value: v, secret: false }]));
        return { refresh: async () => ({}), up: async () => ({ outputs }) } as never;
      },
      workDir: () => os.tmpdir(),
    } as never,
    programFor: () => async () => ({}),
    configFor: () => ({}),
    registry,
    operationTimeoutMs: 10_000,
    lockRetryDelaysMs: [],
    log: memoryLogger().log,
  };
}

describe('control plane: a failed reconcile keeps the tenant serving', () => {
  async function setup() {
    const storage = await sharedStorage();
    const table = storage.table(uniqueName('tenants'));
    const registry = createTenantRegistry({ table });
    const jobs = createJobQueue(storage.queue(uniqueName('provisioning')));
    const runs = createReconcileRuns({ table });
    const state = { broken: true };
    const worker = createProvisioningWorker({
      stacks: scriptedStacks(registry, state),
      registry,
      leases: createTenantLeases({ table, holder: { id: 'test', host: os.hostname(), pid: process.pid }, leaseMs: 5000 }),
      jobs,
      runs,
      parallelism: 2,
      reconcileParallelism: 1,
      retrySchedule: [1],
      busyRetrySeconds: 5,
      log: memoryLogger().log,
    });
    const readyTenant = async (tenantId: string) => {
      await registry.create(tenantId, { requestId: crypto.randomUUID() });
      await registry.update(tenantId, (r) => ({ ...r, status: 'provisioning', stackCreated: true }));
      return registry.update(tenantId, (r) => ({ ...r, status: 'ready', outputs: outputsOf(tenantId), completedRequestId: r.requestId }));
    };
    const reconcile = async (options: { tenantIds?: string[]; readyOnly?: boolean }) => {
      const { runId } = await enqueueReconcile({ jobs, runs }, options);
      expect(await worker.run({ kind: 'reconcile', runId, ...options })).to.equal('done');
      return (await runs.get(runId))?.report;
    };
    return { registry, state, readyTenant, reconcile };
  }

  it('stays ready with the reason, and the next reconcile clears the mark', async () => {
    const { registry, state, readyTenant, reconcile } = await setup();
    const before = await readyTenant('acme');
    const failed = await reconcile({ tenantIds: ['acme'] });
    expect(failed?.tenants.map((t) => `${t.tenantId}:${t.outcome}`)).to.deep.equal(['acme:failed']);
    const during = await registry.require('acme');
    expect(during.status).to.equal('ready');
    expect(during.outputs).to.deep.equal(before.outputs);
    expect(during.reconcileError?.message).to.match(/ECONNREFUSED/);
    expect(during.lastError).to.equal(undefined);

    state.broken = false;
    const retried = await reconcile({ tenantIds: ['acme'] });
    expect(retried?.tenants.map((t) => `${t.tenantId}:${t.outcome}`)).to.deep.equal(['acme:in-sync']);
    const after = await registry.require('acme');
    expect(after.status).to.equal('ready');
    expect(after.reconcileError).to.equal(undefined);
    expect(after.lastReconcile?.at).to.be.a('string');
  });

  it('leaves a failed tenant failed when its repair fails too', async () => {
    const { registry, readyTenant, reconcile } = await setup();
    await readyTenant('hooli');
    await registry.update('hooli', (r) => ({ ...r, status: 'failed', lastError: { name: 'StackOperationTimeoutError', message: 'timed out', at: new Date().toISOString() } }));
    await reconcile({ tenantIds: ['hooli'] });
    const record = await registry.require('hooli');
    expect(record.status).to.equal('failed');
    expect(record.lastError?.message).to.match(/ECONNREFUSED/);
  });

  it("the timer's run takes only the ready tenants", async () => {
    const { registry, state, readyTenant, reconcile } = await setup();
    state.broken = false;
    await readyTenant('initech');
    await readyTenant('globex');
    await registry.update('globex', (r) => ({ ...r, status: 'failed', lastError: { name: 'Error', message: 'x', at: new Date().toISOString() } }));
    const report = await reconcile({ readyOnly: true });
    expect(report?.tenants.map((t) => `${t.tenantId}:${t.outcome}`)).to.deep.equal(['initech:in-sync']);
    expect((await registry.require('globex')).status).to.equal('failed');
  });

  describe('the reconcile timer of the platform function table', () => {
    let azurite: AzuriteInstance;
    before(async () => (azurite = await startAzurite()));
    after(() => azurite.stop());

    it('runs on ZEKT_RECONCILE_SCHEDULE and asks for a run over the ready tenants', async () => {
      const config = loadConfig({ ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(), ZEKT_RECONCILE_SCHEDULE: '0 */5 * * * *' });
      const storage = createStorage(config.storage);
      const parts = createPlatformParts({
        config,
        storage,
        secrets: cachedSecretStore(async () => undefined, 0),
        verifyCallerToken: async () => undefined,
        publicUrl: 'http://127.0.0.1:1',
        log: memoryLogger().log,
      });
      const timer = parts.functions.find((f) => f.name === 'reconcileTenants');
      expect(timer).to.include({ kind: 'timer', schedule: '0 */5 * * * *' });
      if (timer?.kind !== 'timer') throw new Error('no reconcile timer');
      await timer.handler({ isPastDue: false }, {} as never);
      const { peekedMessageItems } = await storage.queue('provisioning').peekMessages({ numberOfMessages: 5 });
      const sent = peekedMessageItems.map((m) => decodeQueueMessage(m.messageText) as { kind: string; runId: string; readyOnly?: boolean });
      expect(sent).to.have.length(1);
      expect(sent[0]).to.include({ kind: 'reconcile', readyOnly: true });
      expect((await parts.runs.get(sent[0]?.runId as string))?.status).to.equal('requested');
    });
  });
});
