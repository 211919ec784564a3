/**
 * Confirmation: a delivery is linked to the consumer run it started — by the correlation id in
 * the run's title, or by a receipt — and follows that run to `completed`; a delivery no run
 * picks up in time becomes `unconfirmed`. Also the sweeper's repair of a record whose message was
 * lost, and the message-fetch check.
 */
import { expect } from 'chai';
import { startDispatchWorld, until, type DispatchWorld, type TenantUnderTest } from './support.ts';
import type { DeliveryRecord } from '../../runtime/tenant/dispatch/delivery-record.ts';
import { DeliveryConsumerMismatchError } from '../../runtime/tenant/dispatch/link-consumer-run.ts';

describe('orchestration: confirmation', function () {
  this.timeout(60_000);
  let world: DispatchWorld;
  let tenant: TenantUnderTest;
  let repos: Record<string, { id: number; fullName: string }>;
  const reference = { id: 'msg-1', name: 'build-info', url: 'http://tenant/api/messages/msg-1', sha256: 'ab'.repeat(32), size: 42, expiresAt: '2030-01-01T00:00:00Z' };

  before(async () => {
    world = await startDispatchWorld();
    tenant = await world.addTenant('acme', {
      orchestration: {
        config: { confirmAfterSeconds: 1 },
        staleMs: 0,
        messagesOfRun: async (run) => (run.runId === 404 ? [reference] : []),
      },
    });
    repos = await world.install('acme', 'acme', ['build', 'deploy', 'docs']);
    await tenant.subscribe(repos.deploy as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
  });
  after(() => world?.close());

  const idOf = (runId: number) => `${repos.build?.id}-${runId}-1.${repos.deploy?.id}`;
  const record = (id: string) => tenant.orchestration.deliveries.read(id).then((s) => s?.record);
  const becomes = (id: string, status: DeliveryRecord['status']) =>
    until(`${id} to be ${status}`, async () => {
      const r = await record(id);
      return r?.status === status ? r : undefined;
    });

  it("links the consumer run whose display_title carries the correlation id, and follows it to completed", async () => {
    await world.run({ action: 'completed', repository: 'acme/build', runId: 401 });
    const dispatched = await becomes(idOf(401), 'dispatched');
    const sent = world.double.dispatches.find((d) => d.repository === 'acme/deploy' && (d.clientPayload as { run: { id: number } }).run.id === 401);
    const correlationId = (sent?.clientPayload as { zekt: { correlation_id: string } }).zekt.correlation_id;
    expect(correlationId).to.equal(dispatched.correlationId);
    // The consumer workflow has `run-name: ${{ github.event.client_payload.zekt.correlation_id }}`.
    const consumerRun = { repository: 'acme/deploy', runId: 9001, event: 'repository_dispatch', displayTitle: correlationId, workflowName: 'Deploy' };
    await world.run({ ...consumerRun, action: 'in_progress' });
    const started = await becomes(idOf(401), 'started');
    expect(started.linkedRun).to.include({ id: 9001, attempt: 1, status: 'in_progress', via: 'display_title', correlationId });
    await world.run({ ...consumerRun, action: 'completed', conclusion: 'failure' });
    const completed = await becomes(idOf(401), 'completed');
    expect(completed.linkedRun).to.include({ id: 9001, status: 'completed', conclusion: 'failure' });
  });

  it('links by a receipt, then follows the run by its id when its title carries nothing', async () => {
    await world.run({ action: 'completed', repository: 'acme/build', runId: 402 });
    await becomes(idOf(402), 'dispatched');
    const linked = await tenant.orchestration.linkDelivery({ deliveryId: idOf(402), consumerRepositoryId: repos.deploy?.id as number, consumerRunId: 9002, attempt: 1 });
    expect(linked).to.include({ status: 'started' });
    expect(linked.linkedRun).to.include({ id: 9002, via: 'receipt' });
    await world.run({ action: 'completed', repository: 'acme/deploy', runId: 9002, conclusion: 'success' });
    const completed = await becomes(idOf(402), 'completed');
    expect(completed.linkedRun).to.include({ id: 9002, status: 'completed', conclusion: 'success' });
  });

  it("refuses a link from a run of another repository and changes nothing", async () => {
    const error = await tenant.orchestration.linkDelivery({ deliveryId: idOf(402), consumerRepositoryId: repos.docs?.id as number, consumerRunId: 9999, attempt: 1 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(DeliveryConsumerMismatchError);
    expect((await record(idOf(402)))?.linkedRun?.id).to.equal(9002);
    // A docs run titled with deploy's correlation id is not deploy's run either.
    await world.run({ action: 'in_progress', repository: 'acme/docs', runId: 9003, displayTitle: (await record(idOf(401)))?.correlationId as string });
    await new Promise((r) => setTimeout(r, 1000));
    await tenant.drain();
    expect((await record(idOf(401)))?.linkedRun?.id).to.equal(9001);
  });

  it('marks a delivery no run picks up unconfirmed, with the likely causes; a late run still links', async () => {
    await world.run({ action: 'completed', repository: 'acme/build', runId: 403 });
    const dispatched = await becomes(idOf(403), 'dispatched');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await tenant.orchestration.sweep()).to.deep.include({ unconfirmed: 1 });
    const unconfirmed = await record(idOf(403));
    expect(unconfirmed?.status).to.equal('unconfirmed');
    expect(unconfirmed?.likelyCauses?.[0]).to.match(/listens for repository_dispatch with types: \[zekt:acme\/build:ci\.yml\]/);
    await world.run({ action: 'in_progress', repository: 'acme/deploy', runId: 9004, displayTitle: `Deploy ${dispatched.correlationId}` });
    const started = await becomes(idOf(403), 'started');
    expect(started.likelyCauses).to.equal(undefined);
  });

  it('re-enqueues a queued record whose message was lost (a crash between the two writes)', async () => {
    const now = new Date().toISOString();
    const orphan: DeliveryRecord = {
      id: `${repos.build?.id}-405-1.${repos.docs?.id}`,
      eventId: `${repos.build?.id}-401-1`,
      consumer: repos.docs as never,
      eventType: 'orphan',
      status: 'queued',
      attempts: 0,
      retries: 0,
      generation: 1,
      correlationId: `zekt.${repos.build?.id}-405-1.${repos.docs?.id}.1`,
      createdAt: now,
      updatedAt: now,
    };
    await tenant.orchestration.deliveries.createIfAbsent(orphan);
    await new Promise((r) => setTimeout(r, 20));
    expect(await tenant.orchestration.sweep()).to.deep.include({ requeued: 1 });
    await becomes(orphan.id, 'dispatched');
    expect(world.double.dispatches.filter((d) => d.eventType === 'orphan').map((d) => d.repository)).to.deep.equal(['acme/docs']);
  });

  it('carries message references (never bodies) and lets only a consumer it was delivered to fetch them', async () => {
    await world.run({ action: 'completed', repository: 'acme/build', runId: 404 });
    await becomes(idOf(404), 'dispatched');
    const sent = world.double.dispatches.find((d) => (d.clientPayload as { run: { id: number } }).run.id === 404);
    expect((sent?.clientPayload as { messages: unknown[] }).messages).to.deep.equal([
      { id: 'msg-1', name: 'build-info', url: reference.url, sha256: reference.sha256, size: 42, expires_at: reference.expiresAt },
    ]);
    expect(await tenant.orchestration.wasMessageDeliveredTo('msg-1', repos.deploy?.id as number)).to.equal(true);
    expect(await tenant.orchestration.wasMessageDeliveredTo('msg-1', repos.docs?.id as number)).to.equal(false);
    expect(await tenant.orchestration.wasMessageDeliveredTo('msg-unknown', repos.deploy?.id as number)).to.equal(false);
  });
});
