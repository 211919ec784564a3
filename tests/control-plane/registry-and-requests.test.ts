import os from 'node:os';
import { expect } from 'chai';
import type { InvocationContext } from '@azure/functions';
import { createTenantRegistry, InvalidTransitionError, type TenantRegistry } from '../../automation/tenant-registry.ts';
import { createTenantLeases, LeaseHeldError } from '../../automation/tenant-lease.ts';
import { createJobQueue, type ProvisioningJob } from '../../automation/provisioning-jobs.ts';
import { createReconcileRuns } from '../../automation/reconcile-runs.ts';
import { enqueueDeprovisioning, enqueueProvisioning, TenantStateError } from '../../automation/enqueue-provisioning.ts';
import { createProvisioningWorker } from '../../automation/provisioning-worker.ts';
import type { TenantStackDeps } from '../../automation/provision-tenant.ts';
import { createControlPlane } from '../../automation/create-control-plane.ts';
import { PulumiEngineMissingError } from '../../automation/engine/pulumi-engine.ts';
import { InvalidTenantIdError } from '../../tenant-stack/tenant-id.ts';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { loadConfig } from '../../runtime/config.ts';
import { createLocalIdentityCredential, signLocalIdentityToken, verifyLocalIdentityToken } from '../../runtime/core/local-identity.ts';
import { sharedAzurite, sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

async function parts() {
  const storage = await sharedStorage();
  const table = storage.table(uniqueName('tenants'));
  const queue = storage.queue(uniqueName('provisioning'));
  const registry = createTenantRegistry({ table });
  const jobs = createJobQueue(queue);
  return { storage, table, queue, registry, jobs };
}

async function queued(queue: Awaited<ReturnType<typeof parts>>['queue']): Promise<unknown[]> {
  const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((m) => decodeQueueMessage(m.messageText));
}

/** Stack deps that fail the test if a stack operation is ever started. */
const noStacks = (registry: TenantRegistry): TenantStackDeps => ({
  workspaces: {
    open: () => Promise.reject(new Error('a stack operation was started')),
    workDir: () => '/nonexistent',
  },
  programFor: () => () => Promise.reject(new Error('a program was run')),
  configFor: () => ({}),
  registry,
  operationTimeoutMs: 1000,
  lockRetryDelaysMs: [],
  log: memoryLogger().log,
});

describe('control plane: registry, leases and requests', () => {
  describe('tenant registry', () => {
    it('keeps one record per tenant and refuses transitions outside the state machine', async () => {
      const { registry } = await parts();
      const created = await registry.create('acme', { requestId: '11111111-1111-4111-8111-111111111111' });
      expect(created).to.include({ tenantId: 'acme', status: 'requested', attempts: 0, stackCreated: false });
      expect(created.creationId).to.match(/^[a-z0-9]{4,12}$/);
      const provisioning = await registry.update('acme', (r) => ({ ...r, status: 'provisioning', attempts: 1, progress: { done: 2, total: 9 } }));
      expect(provisioning.progress).to.deep.equal({ done: 2, total: 9 });
      await registry.update('acme', (r) => ({ ...r, status: 'ready' }));
      let error: unknown;
      try {
        await registry.update('acme', (r) => ({ ...r, status: 'requested' }));
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(InvalidTransitionError);
      expect((await registry.require('acme')).status).to.equal('ready');
    });

    it('applies concurrent changes one after the other (ETag optimistic concurrency)', async () => {
      const { registry } = await parts();
      await registry.create('acme', { requestId: '11111111-1111-4111-8111-111111111111' });
      await Promise.all(Array.from({ length: 8 }, () => registry.update('acme', (r) => ({ ...r, attempts: r.attempts + 1 }))));
      expect((await registry.require('acme')).attempts).to.equal(8);
    });

    it('validates the tenant id before it names anything', async () => {
      const { registry, table } = await parts();
      for (const bad of ['', 'A', 'acme_corp', '-acme', 'acme-', 'a--b', 'x'.repeat(33), '../etc', "o'brien"]) {
        let error: unknown;
        try {
          await registry.create(bad, { requestId: '11111111-1111-4111-8111-111111111111' });
        } catch (err) {
          error = err;
        }
        expect(error, bad).to.be.instanceOf(InvalidTenantIdError);
      }
      let rows = 0;
      try {
        for await (const _ of table.listEntities()) rows++;
      } catch (err) {
        // The table was never even created.
        expect((err as { statusCode?: number }).statusCode).to.equal(404);
      }
      expect(rows).to.equal(0);
    });
  });

  describe('requests (the signup API)', () => {
    it('records a new tenant as requested and enqueues one job; asking again re-sends the same job', async () => {
      const { registry, jobs, queue } = await parts();
      const first = await enqueueProvisioning({ registry, jobs }, 'acme');
      const second = await enqueueProvisioning({ registry, jobs }, 'acme');
      expect(first.record.status).to.equal('requested');
      expect(second.job).to.deep.equal(first.job);
      expect(await queued(queue)).to.deep.equal([first.job, first.job]);
    });

    it('creates nothing for an invalid tenant id', async () => {
      const { registry, jobs, queue } = await parts();
      let error: unknown;
      try {
        await enqueueProvisioning({ registry, jobs }, 'Not A Tenant!');
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(InvalidTenantIdError);
      expect(await registry.list()).to.deep.equal([]);
      expect(await queue.exists()).to.equal(false);
    });

    it('does nothing for a ready tenant, refuses one being deleted, and starts a new life for a deleted one', async () => {
      const { registry, jobs } = await parts();
      const { record } = await enqueueProvisioning({ registry, jobs }, 'acme');
      await registry.update('acme', (r) => ({ ...r, status: 'provisioning' }));
      await registry.update('acme', (r) => ({ ...r, status: 'ready', completedRequestId: r.requestId, stackCreated: true }));
      expect((await enqueueProvisioning({ registry, jobs }, 'acme')).job).to.equal(undefined);

      const removal = await enqueueDeprovisioning({ registry, jobs }, 'acme');
      expect(removal.record.status).to.equal('deprovisioning');
      expect(removal.job?.kind).to.equal('destroy');
      let error: unknown;
      try {
        await enqueueProvisioning({ registry, jobs }, 'acme');
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(TenantStateError);

      await registry.update('acme', (r) => ({ ...r, status: 'deleted', stackCreated: false }));
      const again = await enqueueProvisioning({ registry, jobs }, 'acme');
      expect(again.record.status).to.equal('requested');
      expect(again.record.creationId, 'fresh names for a new life').to.not.equal(record.creationId);
      expect(again.job?.requestId).to.not.equal(record.requestId);
    });
  });

  describe('provisioning worker: what it refuses without touching a stack', () => {
    const context = () => {
      const logs = memoryLogger();
      return { logs, context: { warn: (...args: unknown[]) => logs.log.warn(args.map(String).join(' ')) } as unknown as InvocationContext };
    };

    async function worker() {
      const p = await parts();
      const leases = createTenantLeases({ table: p.table, holder: { id: 'test', host: os.hostname(), pid: process.pid }, leaseMs: 5000 });
      const w = createProvisioningWorker({
        stacks: noStacks(p.registry),
        registry: p.registry,
        leases,
        jobs: p.jobs,
        runs: createReconcileRuns({ table: p.table }),
        parallelism: 2,
        retrySchedule: [1],
        busyRetrySeconds: 5,
        log: memoryLogger().log,
      });
      return { ...p, leases, worker: w };
    }

    it('drops malformed messages and invalid tenant ids (refused, not retried)', async () => {
      const { worker: w } = await worker();
      const { context: ctx, logs } = context();
      await w.handle({ kind: 'provision', tenantId: 'acme' }, ctx);
      await w.handle('not json at all', ctx);
      await w.handle({ kind: 'provision', tenantId: '../etc', requestId: '11111111-1111-4111-8111-111111111111' }, ctx);
      expect(logs.lines.filter((l) => String(l.msg).startsWith('refused a malformed provisioning job'))).to.have.length(3);
    });

    it('refuses a job for a deleted tenant and one for an unknown tenant', async () => {
      const { worker: w, registry, jobs } = await worker();
      const { job } = await enqueueProvisioning({ registry, jobs }, 'acme');
      await registry.update('acme', (r) => ({ ...r, status: 'deprovisioning' }));
      await registry.update('acme', (r) => ({ ...r, status: 'deleted' }));
      expect(await w.run(job as ProvisioningJob)).to.equal('refused');
      expect(await w.run({ kind: 'provision', tenantId: 'nobody', requestId: '11111111-1111-4111-8111-111111111111' })).to.equal('refused');
      expect((await registry.require('acme')).status).to.equal('deleted');
    });

    it('skips a stale job (superseded by a newer request)', async () => {
      const { worker: w, registry, jobs } = await worker();
      const { job } = await enqueueProvisioning({ registry, jobs }, 'acme');
      await registry.update('acme', (r) => ({ ...r, requestId: '22222222-2222-4222-8222-222222222222' }));
      expect(await w.run(job as ProvisioningJob)).to.equal('stale');
    });

    it('drops a duplicate of the job a live holder is running, and sends other jobs for a busy tenant again later', async () => {
      const { worker: w, registry, jobs, queue, table } = await worker();
      const { job } = await enqueueProvisioning({ registry, jobs }, 'acme');
      await queue.clearMessages();
      const other = createTenantLeases({ table, holder: { id: 'other', host: os.hostname(), pid: process.pid }, leaseMs: 5000 });
      const lease = await other.acquire('acme', 'provision');
      try {
        expect(await w.run(job as ProvisioningJob)).to.equal('duplicate');
        const removal = await enqueueDeprovisioning({ registry, jobs }, 'acme');
        await queue.clearMessages();
        expect(await w.run(removal.job as ProvisioningJob)).to.equal('requeued');
        expect(await queued(queue)).to.deep.equal([]);
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1 });
        expect(receivedMessageItems, 'requeued with a delay, invisible for now').to.have.length(0);
      } finally {
        await lease.release();
      }
    });
  });

  describe('tenant leases', () => {
    it('gives a tenant to one holder at a time; a dead holder’s lease is taken over with its update marker', async () => {
      const storage = await sharedStorage();
      const table = storage.table(uniqueName('leases'));
      const a = createTenantLeases({ table, holder: { id: 'a', host: os.hostname(), pid: process.pid }, leaseMs: 60_000 });
      const b = createTenantLeases({ table, holder: { id: 'b', host: os.hostname(), pid: process.pid }, leaseMs: 60_000 });
      const lease = await a.acquire('acme', 'provision');
      await lease.markUpdate(true);
      let error: unknown;
      try {
        await b.acquire('acme', 'provision');
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(LeaseHeldError);
      expect((error as LeaseHeldError).holder.id).to.equal('a');

      // A holder on this host whose process is gone is dead at once.
      const deadPid = 2 ** 22 + 12345;
      const ghost = createTenantLeases({ table, holder: { id: 'ghost', host: os.hostname(), pid: deadPid }, leaseMs: 60_000 });
      const orphan = await ghost.acquire('globex', 'provision');
      await orphan.markUpdate(true);
      const takeover = await b.acquire('globex', 'provision');
      expect(takeover.previous).to.include({ id: 'ghost', updateRunning: true });
      expect(takeover.previousIsDead()).to.equal(true);
      await takeover.release();
      await lease.release();
      expect(await a.holder('acme')).to.equal(undefined);
    });

    it('counts an expired holder as dead only after a second period of silence', async () => {
      const storage = await sharedStorage();
      const table = storage.table(uniqueName('leases'));
      let clock = 1_000_000;
      const elsewhere = createTenantLeases({ table, holder: { id: 'far', host: 'another-host', pid: 1 }, leaseMs: 1000, now: () => clock });
      const here = createTenantLeases({ table, holder: { id: 'near', host: os.hostname(), pid: process.pid }, leaseMs: 1000, now: () => clock });
      const held = await elsewhere.acquire('acme', 'provision');
      await held.markUpdate(true);
      clock += 1500;
      const taken = await here.acquire('acme', 'provision');
      expect(taken.previousIsDead(), 'may still be winding down').to.equal(false);
      clock += 1000;
      expect(taken.previousIsDead()).to.equal(true);
      await taken.release();
      // The old holder's renewals now fail: its signal aborts.
      await held.markUpdate(false).catch(() => undefined);
      expect(held.signal.aborted).to.equal(true);
      await held.release();
    });
  });

  describe('local identity tokens', () => {
    it('verifies its own tokens and nothing else', async () => {
      const identity = { clientId: '6f1e3a52-1111-4222-8333-944455556666', secret: 's'.repeat(43) };
      const token = (await createLocalIdentityCredential(identity).getToken('https://vault.azure.net/.default'))?.token as string;
      const secretOf = (id: string) => (id === identity.clientId ? identity.secret : undefined);
      expect(verifyLocalIdentityToken(token, secretOf, { audience: 'https://vault.azure.net' })).to.equal(identity.clientId);
      expect(verifyLocalIdentityToken(token, secretOf, { audience: 'https://storage.azure.com' }), 'audience').to.equal(undefined);
      // A character inside the signature (the last one also carries padding bits).
      const at = token.length - 10;
      const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
      expect(verifyLocalIdentityToken(tampered, secretOf, { audience: 'https://vault.azure.net' }), 'signature').to.equal(undefined);
      const expired = signLocalIdentityToken(identity, 'https://vault.azure.net', { now: Date.now() - 7200_000 });
      expect(verifyLocalIdentityToken(expired.token, secretOf, { audience: 'https://vault.azure.net' }), 'expiry').to.equal(undefined);
      const forged = signLocalIdentityToken({ ...identity, secret: 'x'.repeat(43) }, 'https://vault.azure.net');
      expect(verifyLocalIdentityToken(forged.token, secretOf, { audience: 'https://vault.azure.net' }), 'other secret').to.equal(undefined);
    });
  });

  describe('the engine', () => {
    it('names the set-up step when the engine is missing', async () => {
      const azurite = await sharedAzurite();
      const config = loadConfig({ ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(), ZEKT_CACHE_DIR: '/nonexistent/zekt-cache' });
      let error: unknown;
      try {
        await createControlPlane({ config, storage: await sharedStorage(), log: memoryLogger().log, passphrase: 'x'.repeat(32) });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(PulumiEngineMissingError);
      expect((error as Error).message).to.include('npm run setup');
    });
  });
});
