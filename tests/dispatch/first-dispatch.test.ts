/**
 * The fan-out's first dispatch: the tenant answers the ingress's forward of a completed run once
 * the run's event and records are stored (no queue message for the run), and the first dispatch
 * goes on after that answer. Each record is created already leased by the invocation that
 * creates it (no lease write), and sent with the event that invocation holds (no event read).
 * While that lease holds, no other message for the record sends it; a record whose first dispatch
 * never happened (the process died after creating it) is dispatched by the sweeper, once, after
 * the lease has run out.
 */
import { expect } from 'chai';
import { sendJson } from '../../runtime/storage/queue-message.ts';
import type { DeliveryRecord } from '../../runtime/tenant/dispatch/delivery-record.ts';
import { startDispatchWorld, startFaultFront, until, type DispatchWorld, type FaultFront, type TenantUnderTest } from './support.ts';

describe('orchestration: the first dispatch of a record created leased', function () {
  this.timeout(60_000);
  let world: DispatchWorld;
  let front: FaultFront;
  let tenant: TenantUnderTest;
  let repos: Record<string, { id: number; fullName: string }>;
  // The tenant's clock, which a test moves past a lease.
  let offsetMs = 0;

  before(async () => {
    world = await startDispatchWorld();
    front = await startFaultFront(world.double.apiUrl);
    tenant = await world.addTenant('acme', { apiUrl: front.url, orchestration: { staleMs: 0, now: () => Date.now() + offsetMs } });
    repos = await world.install('acme', 'acme', ['build', 'deploy']);
    await tenant.subscribe(repos.deploy as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
  });
  after(async () => {
    await front?.close();
    await world?.close();
  });

  const idOf = (runId: number) => `${repos.build?.id}-${runId}-1.${repos.deploy?.id}`;
  const record = (id: string) => tenant.orchestration.deliveries.read(id).then((s) => s?.record);
  const sentFor = (runId: number) => world.double.dispatches.filter((d) => (d.clientPayload as { run: { id: number } }).run.id === runId);

  it('answers the forward once the event and the record are stored, with no queue message, and dispatches after', async () => {
    // The first dispatch is held at GitHub: the forward's answer does not wait for it.
    front.script.push({ status: 204, proxy: true, delayMs: 1500 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 599 });
    const guid = world.double.deliveries[world.double.deliveries.length - 1]?.guid as string;
    await until('the forward answered', async () => ((await world.ingress.deliveries.get(guid)).status === 'delivered' ? true : undefined));
    expect(front.seen.filter((s) => s.status === 204), 'dispatches answered so far').to.have.length(0);
    expect(await tenant.orchestration.events.get(`${repos.build?.id}-599-1`)).to.deep.include({ id: `${repos.build?.id}-599-1` });
    expect((await record(idOf(599)))?.status).to.equal('queued');
    expect((await tenant.storage.queue('deliveries').getProperties()).approximateMessagesCount, 'queue messages').to.equal(0);
    await until('dispatched', async () => ((await record(idOf(599)))?.status === 'dispatched' ? true : undefined));
    expect(sentFor(599).map((d) => d.repository)).to.deep.equal(['acme/deploy']);
    await tenant.drain();
  });

  it('with as many runs dispatching as it takes, answers the next forward only once its own dispatch is done', async () => {
    const busy = await world.addTenant('busy', { apiUrl: front.url, orchestration: { maxRunsInFlight: 1 } });
    const busyRepos = await world.install('busy', 'busy', ['build', 'deploy']);
    await busy.subscribe(busyRepos.deploy as never, [{ provider: busyRepos.build as never, conclusions: ['success'] }]);
    const busyRecord = (runId: number) => busy.orchestration.deliveries.read(`${busyRepos.build?.id}-${runId}-1.${busyRepos.deploy?.id}`).then((r) => r?.record);
    // Both dispatches are held at GitHub; the first run takes the one place.
    front.script.push({ status: 204, proxy: true, delayMs: 1500 }, { status: 204, proxy: true, delayMs: 1500 });
    await world.run({ action: 'completed', repository: 'busy/build', runId: 700 });
    const first = world.double.deliveries[world.double.deliveries.length - 1]?.guid as string;
    await until('the first forward answered', async () => ((await world.ingress.deliveries.get(first)).status === 'delivered' ? true : undefined));
    expect((await busyRecord(700))?.status, 'the first run, answered before its dispatch').to.equal('queued');
    await world.run({ action: 'completed', repository: 'busy/build', runId: 701 });
    const second = world.double.deliveries[world.double.deliveries.length - 1]?.guid as string;
    await until('the second forward answered', async () => ((await world.ingress.deliveries.get(second)).status === 'delivered' ? true : undefined));
    expect((await busyRecord(701))?.status, 'the second run, answered after its dispatch').to.equal('dispatched');
    await busy.drain();
  });

  it('is sent once while a repeated message and the sweeper meet the record during its first dispatch', async () => {
    // The first dispatch is held at GitHub for a moment.
    front.script.push({ status: 204, proxy: true, delayMs: 1500 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 601 });
    const held = await until('the record, leased from its creation', async () => {
      const r = await record(idOf(601));
      return r?.status === 'queued' && r.leaseUntil ? r : undefined;
    });
    expect(held.leaseUntil).to.be.greaterThan(Date.now() + 30_000);
    // A message for the same delivery (a repeat) and a sweep arrive while the dispatch is in flight.
    await sendJson(tenant.storage.queue('deliveries'), { kind: 'dispatch', deliveryId: idOf(601) });
    expect(await tenant.orchestration.sweep()).to.deep.include({ requeued: 0 });
    const dispatched = await until('dispatched', async () => {
      const r = await record(idOf(601));
      return r?.status === 'dispatched' ? r : undefined;
    });
    await tenant.drain();
    await new Promise((r) => setTimeout(r, 300));
    expect(sentFor(601).map((d) => d.repository)).to.deep.equal(['acme/deploy']);
    expect(dispatched).to.deep.include({ attempts: 1, messageIds: [] });
    expect(dispatched.leaseUntil).to.equal(undefined);
  });

  it('is dispatched by the sweeper, once, only after the lease of an invocation that died has run out', async () => {
    // As the fan-out leaves it when its process dies right after creating the record.
    // Its event: one a completed run made (run 600), stored again as run 602's.
    await world.run({ action: 'completed', repository: 'acme/build', runId: 600 });
    const model = await until('the event of run 600', () => tenant.orchestration.events.get(`${repos.build?.id}-600-1`));
    await until('its dispatch', async () => ((await record(idOf(600)))?.status === 'dispatched' ? true : undefined));
    const event = (await tenant.orchestration.events.createIfAbsent({ ...model, id: `${repos.build?.id}-602-1`, run: { ...model.run, id: 602 } })).event;
    const at = new Date(Date.now() + offsetMs).toISOString();
    const orphan: DeliveryRecord = {
      id: idOf(602),
      eventId: event.id,
      consumer: repos.deploy as never,
      eventType: 'zekt:acme/build:ci.yml',
      status: 'queued',
      attempts: 0,
      retries: 0,
      generation: 1,
      correlationId: `zekt.${idOf(602)}.1`,
      leaseUntil: Date.now() + offsetMs + 60_000,
      createdAt: at,
      updatedAt: at,
    };
    await tenant.orchestration.deliveries.createIfAbsent(orphan);
    // Still leased: a message finds it held, and the sweeper leaves it.
    await sendJson(tenant.storage.queue('deliveries'), { kind: 'dispatch', deliveryId: orphan.id });
    expect(await tenant.orchestration.sweep()).to.deep.include({ requeued: 0 });
    await tenant.drain();
    expect(sentFor(602)).to.deep.equal([]);
    expect((await record(orphan.id))?.status).to.equal('queued');
    // The lease has run out: the sweeper re-enqueues it, and it is sent once.
    offsetMs += 61_000;
    expect(await tenant.orchestration.sweep()).to.deep.include({ requeued: 1 });
    await until('dispatched', async () => ((await record(orphan.id))?.status === 'dispatched' ? true : undefined));
    await tenant.drain();
    expect(await tenant.orchestration.sweep()).to.deep.include({ requeued: 0 });
    await tenant.drain();
    expect(sentFor(602).map((d) => d.repository)).to.deep.equal(['acme/deploy']);
    expect((await record(orphan.id))?.attempts).to.equal(1);
  });
});
