/**
 * A provider's completed run becomes one event and one dispatch per matching consumer, through
 * the whole path: the double's webhook → the ingress and its router → the tenant's intake → the
 * deliveries queue → the dispatcher → a broker token → the double's `repository_dispatch`.
 */
import { expect } from 'chai';
import { startDispatchWorld, until, type DispatchWorld, type TenantUnderTest } from './support.ts';
import { correlationIdOf, deliveryIdOf } from '../../runtime/tenant/dispatch/delivery-record.ts';

describe('orchestration: events and fan-out', function () {
  this.timeout(60_000);
  let world: DispatchWorld;
  let tenant: TenantUnderTest;
  let repos: Record<string, { id: number; fullName: string }>;

  before(async () => {
    world = await startDispatchWorld();
    tenant = await world.addTenant('acme');
    repos = await world.install('acme', 'acme', ['build', 'deploy', 'docs', 'web', 'audit']);
    const build = repos.build as { id: number; fullName: string };
    await tenant.subscribe(repos.deploy as never, [{ provider: build, workflows: ['release.yml'], conclusions: ['success'], branches: ['main'] }]);
    await tenant.subscribe(repos.docs as never, [{ provider: build, workflows: ['Release'], conclusions: ['success', 'failure'], eventType: 'docs-rebuild' }]);
    await tenant.subscribe(repos.web as never, [{ provider: build, conclusions: ['success'] }]);
  });
  after(() => world?.close());

  const dispatchesOf = (runId: number) => world.double.dispatches.filter((d) => (d.clientPayload as { run?: { id?: number } } | undefined)?.run?.id === runId);

  const release = (runId: number, extra: Record<string, unknown> = {}) => ({
    action: 'completed' as const,
    repository: 'acme/build',
    runId,
    workflowName: 'Release',
    workflowPath: '.github/workflows/release.yml',
    headBranch: 'main',
    ...extra,
  });

  it('fans a completed run out to every matching consumer, once each, with a documented payload', async () => {
    await world.run(release(101));
    const sent = await until('three dispatches', () => (dispatchesOf(101).length >= 3 ? dispatchesOf(101) : undefined));
    await tenant.drain();
    expect(dispatchesOf(101).map((d) => d.repository).sort()).to.deep.equal(['acme/deploy', 'acme/docs', 'acme/web']);
    const toDocs = sent.find((d) => d.repository === 'acme/docs');
    expect(toDocs?.eventType).to.equal('docs-rebuild');
    const toDeploy = sent.find((d) => d.repository === 'acme/deploy');
    expect(toDeploy?.eventType).to.equal('zekt:acme/build:release.yml');
    const payload = toDeploy?.clientPayload as Record<string, Record<string, unknown>>;
    expect(Object.keys(payload)).to.have.length.at.most(10);
    expect(payload.provider).to.deep.equal({ repository: 'acme/build', repository_id: repos.build?.id });
    expect(payload.run).to.include({ id: 101, attempt: 1, conclusion: 'success', head_branch: 'main' });
    expect(payload.zekt?.correlation_id).to.equal(`zekt.${repos.build?.id}-101-1.${repos.deploy?.id}.1`);
    // Each dispatch used a token for that one consumer repository only.
    expect(new Set(sent.map((d) => d.token)).size).to.equal(3);
    const event = await tenant.orchestration.events.get(`${repos.build?.id}-101-1`);
    expect(event).to.deep.include({ provider: { id: repos.build?.id, fullName: 'acme/build' }, workflow: { name: 'Release', path: '.github/workflows/release.yml' } });
    const records = await tenant.orchestration.deliveries.ofEvent(`${repos.build?.id}-101-1`);
    expect(records.map((r) => r.status)).to.deep.equal(['dispatched', 'dispatched', 'dispatched']);
    expect(records.every((r) => r.attempts === 1)).to.equal(true);
  });

  it('applies the filters: workflow, conclusion and branch', async () => {
    // A failed release on a feature branch: only docs (failure allowed, any branch) matches.
    await world.run(release(102, { conclusion: 'failure', headBranch: 'feature' }));
    // Another workflow, success on main: only web (all workflows) matches.
    await world.run(release(103, { workflowName: 'CI', workflowPath: '.github/workflows/ci.yml' }));
    await until('both runs handled', async () => (dispatchesOf(102).length >= 1 && dispatchesOf(103).length >= 1 ? true : undefined));
    await tenant.drain();
    expect(dispatchesOf(102).map((d) => d.repository)).to.deep.equal(['acme/docs']);
    expect(dispatchesOf(103).map((d) => d.repository)).to.deep.equal(['acme/web']);
  });

  it('makes one event and one dispatch per consumer of a completed run sent three times and out of order', async () => {
    await world.run(release(104));
    await world.run({ action: 'in_progress', repository: 'acme/build', runId: 104, workflowName: 'Release', workflowPath: '.github/workflows/release.yml' });
    await world.run(release(104));
    await world.run({ action: 'requested', repository: 'acme/build', runId: 104, workflowName: 'Release', workflowPath: '.github/workflows/release.yml' });
    await world.run(release(104));
    await until('three dispatches', () => (dispatchesOf(104).length >= 3 ? true : undefined));
    // Let every copy reach the tenant and its queue run dry before counting.
    await new Promise((r) => setTimeout(r, 1500));
    await tenant.drain();
    expect(dispatchesOf(104).map((d) => d.repository).sort()).to.deep.equal(['acme/deploy', 'acme/docs', 'acme/web']);
    const events = await tenant.orchestration.events.list({ limit: 100 });
    expect(events.items.filter((e) => e.run.id === 104)).to.have.length(1);
  });

  it('writes the records a copy after a crash part-way did not: the one already there is neither written again nor sent', async () => {
    // As if an earlier copy had written deploy's record, dispatched it, and died before the rest:
    // the records of one event go in one transaction, which fails whole on that one.
    const eventId = `${repos.build?.id}-190-1`;
    const deploy = repos.deploy as { id: number; fullName: string };
    const id = deliveryIdOf(eventId, deploy.id);
    const at = new Date().toISOString();
    const earlier = { id, eventId, consumer: deploy, eventType: 'zekt:acme/build:release.yml', status: 'dispatched' as const, attempts: 1, retries: 0, generation: 1, correlationId: correlationIdOf(id, 1), createdAt: at, updatedAt: at, dispatchedAt: at };
    expect(await tenant.orchestration.deliveries.createIfAbsent(earlier)).to.not.equal(undefined);
    await world.run(release(190));
    await until('two dispatches', () => (dispatchesOf(190).length >= 2 ? true : undefined));
    await tenant.drain();
    expect(dispatchesOf(190).map((d) => d.repository).sort()).to.deep.equal(['acme/docs', 'acme/web']);
    const records = await tenant.orchestration.deliveries.ofEvent(eventId);
    expect(records.map((r) => `${r.consumer.fullName}:${r.status}:${r.attempts}`).sort()).to.deep.equal(['acme/deploy:dispatched:1', 'acme/docs:dispatched:1', 'acme/web:dispatched:1']);
    expect(records.find((r) => r.consumer.id === deploy.id)?.updatedAt).to.equal(at);
  });

  it('makes a new event for a re-run attempt', async () => {
    await world.run(release(105, { conclusion: 'failure' }));
    await until('the first attempt delivered to docs', () => (dispatchesOf(105).length >= 1 ? true : undefined));
    await world.run(release(105, { runAttempt: 2 }));
    await until('the second attempt delivered', () => (dispatchesOf(105).length >= 4 ? true : undefined));
    await tenant.drain();
    const attempts = dispatchesOf(105).map((d) => `${(d.clientPayload as { run: { attempt: number } }).run.attempt}:${d.repository}`).sort();
    expect(attempts).to.deep.equal(['1:acme/docs', '2:acme/deploy', '2:acme/docs', '2:acme/web']);
    expect(await tenant.orchestration.events.get(`${repos.build?.id}-105-1`)).to.not.equal(undefined);
    expect((await tenant.orchestration.events.get(`${repos.build?.id}-105-2`))?.run).to.include({ id: 105, attempt: 2, conclusion: 'success', headBranch: 'main' });
  });

  it("leaves out a consumer the provider's publish list does not name", async () => {
    const index = (await import('../../runtime/tenant/subscriptions/subscription-index.ts')).createSubscriptionIndex(tenant.storage.table('subscriptions'));
    await index.setPublishPolicy({ provider: repos.build as never, consumers: [repos.deploy?.id as number, repos.docs?.id as number], settledReport: false });
    try {
      await world.run(release(106));
      await until('two dispatches', () => (dispatchesOf(106).length >= 2 ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      await tenant.drain();
      expect(dispatchesOf(106).map((d) => d.repository).sort()).to.deep.equal(['acme/deploy', 'acme/docs']);
      expect((await tenant.orchestration.deliveries.ofEvent(`${repos.build?.id}-106-1`)).map((r) => r.consumer.fullName).sort()).to.deep.equal(['acme/deploy', 'acme/docs']);
    } finally {
      await index.setPublishPolicy({ provider: repos.build as never, remove: true });
    }
  });

  it('keeps to a publish list stored before the policy sat beside its subscribers, and to its removal', async () => {
    const table = tenant.storage.table('subscriptions');
    const index = (await import('../../runtime/tenant/subscriptions/subscription-index.ts')).createSubscriptionIndex(table);
    // As an earlier version stored it: only the `publish` row, nothing in the provider's partition.
    const policy = { provider: repos.build, consumers: [repos.web?.id as number], settledReport: false };
    await table.deleteEntity(`provider-${repos.build?.id}`, 'publish').catch(() => undefined);
    await table.upsertEntity({ partitionKey: 'publish', rowKey: String(repos.build?.id), value: JSON.stringify(policy) }, 'Replace');
    try {
      await world.run(release(120));
      await until('a dispatch', () => (dispatchesOf(120).length >= 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      await tenant.drain();
      expect(dispatchesOf(120).map((d) => d.repository)).to.deep.equal(['acme/web']);
    } finally {
      await index.setPublishPolicy({ provider: repos.build as never, remove: true });
    }
    // Removed: both rows say so, and every matching consumer receives again.
    expect(await index.audienceOf(repos.build?.id as number).then((a) => a.policy)).to.equal(undefined);
    expect(await index.publishPolicyOf(repos.build?.id as number)).to.equal(undefined);
    await world.run(release(121));
    await until('three dispatches', () => (dispatchesOf(121).length >= 3 ? true : undefined));
    expect(dispatchesOf(121).map((d) => d.repository).sort()).to.deep.equal(['acme/deploy', 'acme/docs', 'acme/web']);
  });

  it("marks dead a consumer outside the tenant's installations: the broker gives no token for it", async () => {
    const foreign = { id: 999_999, fullName: 'globex/secret' };
    await tenant.subscribe(foreign, [{ provider: repos.build as never, conclusions: ['success'] }]);
    try {
      await world.run(release(107));
      const record = await until('the foreign delivery to die', async () => {
        const r = (await tenant.orchestration.deliveries.read(`${repos.build?.id}-107-1.${foreign.id}`))?.record;
        return r?.status === 'dead' ? r : undefined;
      });
      expect(record.lastError).to.match(/token broker refused/);
      expect(record.attempts).to.equal(0);
      await tenant.drain();
      expect(dispatchesOf(107).map((d) => d.repository)).to.not.include('globex/secret');
    } finally {
      await tenant.subscribe(foreign, []);
    }
  });
});
