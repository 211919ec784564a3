/**
 * The tenant runtime's events and deliveries API over HTTP: each route answers only with this
 * tenant's short-lived credential (401 without one, and with another tenant's), pages newest
 * first, refuses bad input with a 400 that changes nothing, and redelivers from the record.
 */
import { expect } from 'chai';
import type { ZektEvent } from '../../runtime/tenant/dispatch/zekt-event.ts';
import { startDispatchWorld, startFaultFront, until, type DispatchWorld, type FaultFront, type TenantUnderTest } from './support.ts';

describe('orchestration: the tenant API', function () {
  this.timeout(60_000);
  let world: DispatchWorld;
  let front: FaultFront;
  let acme: TenantUnderTest;
  let globex: TenantUnderTest;
  let repos: Record<string, { id: number; fullName: string }>;

  before(async () => {
    world = await startDispatchWorld();
    front = await startFaultFront(world.double.apiUrl);
    acme = await world.addTenant('acme', { apiUrl: front.url });
    globex = await world.addTenant('globex');
    repos = await world.install('acme', 'acme', ['build', 'deploy']);
    await acme.subscribe(repos.deploy as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
    front.script.push({ status: 422, body: { message: 'Invalid request.' } });
    for (const runId of [501, 502, 503]) {
      await world.run({ action: 'completed', repository: 'acme/build', runId });
      await until(`run ${runId} handled`, async () => ((await acme.orchestration.deliveries.ofEvent(`${repos.build?.id}-${runId}-1`)).some((d) => d.status !== 'queued') ? true : undefined));
    }
  });
  after(async () => {
    await world?.close();
    await front?.close();
  });

  async function call(tenant: TenantUnderTest, method: string, path: string, credential?: string | null) {
    const token = credential === undefined ? await tenant.credential() : credential;
    const res = await fetch(`${tenant.url}/api/${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const routes: [string, string][] = [
    ['GET', 'events'],
    ['GET', 'events/1-501-1'],
    ['GET', 'deliveries'],
    ['POST', 'deliveries/1-501-1.2/redeliver'],
  ];
  for (const [method, path] of routes) {
    it(`${method} /api/${path.replace(/1-[^/]+/, '{id}')} answers 401 without a credential and with another tenant's`, async () => {
      expect((await call(acme, method, path, null)).status).to.equal(401);
      expect((await call(acme, method, path, await globex.credential())).status).to.equal(401);
      expect((await call(acme, method, path, 'not-a-jwt')).status).to.equal(401);
    });
  }

  it('lists events newest first, a page at a time', async () => {
    const first = await call(acme, 'GET', 'events?limit=2');
    expect(first.status).to.equal(200);
    const events = first.body.events as { id: string; run: { id: number }; provider: { full_name: string } }[];
    expect(events.map((e) => e.run.id)).to.deep.equal([503, 502]);
    expect(events[0]?.provider.full_name).to.equal('acme/build');
    const cursor = first.body.next_cursor as string;
    expect(cursor).to.be.a('string');
    const second = await call(acme, 'GET', `events?limit=2&cursor=${encodeURIComponent(cursor)}`);
    expect((second.body.events as { run: { id: number } }[]).map((e) => e.run.id)).to.deep.equal([501]);
    expect(second.body.next_cursor).to.equal(null);
    // The other tenant's runtime has none of them.
    expect((await call(globex, 'GET', 'events')).body.events).to.deep.equal([]);
  });

  it('shows one event with its deliveries', async () => {
    const { status, body } = await call(acme, 'GET', `events/${repos.build?.id}-502-1`);
    expect(status).to.equal(200);
    expect((body.event as { id: string }).id).to.equal(`${repos.build?.id}-502-1`);
    const deliveries = body.deliveries as { consumer: { full_name: string }; status: string; attempts: number; correlation_id: string }[];
    expect(deliveries).to.have.length(1);
    expect(deliveries[0]).to.include({ status: 'dispatched', attempts: 1, correlation_id: `zekt.${repos.build?.id}-502-1.${repos.deploy?.id}.1` });
    expect((await call(acme, 'GET', 'events/1-2-3')).status).to.equal(404);
    expect((await call(acme, 'GET', 'events/not-an-id')).status).to.equal(404);
  });

  it('lists deliveries by status, and refuses an unknown status or limit with 400', async () => {
    const dead = await call(acme, 'GET', 'deliveries?status=dead');
    expect(dead.status).to.equal(200);
    expect((dead.body.deliveries as { id: string; last_error: string }[]).map((d) => [d.id, d.last_error])).to.deep.equal([
      [`${repos.build?.id}-501-1.${repos.deploy?.id}`, 'GitHub answered 422: Invalid request.'],
    ]);
    expect(((await call(acme, 'GET', 'deliveries')).body.deliveries as unknown[]).length).to.equal(3);
    expect((await call(acme, 'GET', 'deliveries?status=lost')).status).to.equal(400);
    expect((await call(acme, 'GET', 'deliveries?limit=0')).status).to.equal(400);
    expect((await call(acme, 'GET', 'events?limit=1000')).status).to.equal(400);
  });

  it('redelivers from the record: 202, then dispatched as a new generation; 404 unknown, 409 while queued', async () => {
    const id = `${repos.build?.id}-501-1.${repos.deploy?.id}`;
    const before = world.double.dispatches.length;
    expect((await call(acme, 'POST', `deliveries/${repos.build?.id}-999-1.${repos.deploy?.id}/redeliver`)).status).to.equal(404);
    // Held in the queue by a scripted 503 so the second request meets it queued.
    front.script.push({ status: 503 });
    const accepted = await call(acme, 'POST', `deliveries/${id}/redeliver`);
    expect(accepted.status).to.equal(202);
    expect(accepted.body.delivery).to.include({ status: 'queued', generation: 2, correlation_id: `zekt.${id}.2` });
    expect((await call(acme, 'POST', `deliveries/${id}/redeliver`)).status).to.equal(409);
    const done = await until('the redelivery to be dispatched', async () => {
      const { body } = await call(acme, 'GET', `events/${repos.build?.id}-501-1`);
      const [d] = body.deliveries as { status: string; attempts: number; generation: number }[];
      return d?.status === 'dispatched' ? d : undefined;
    });
    expect(done).to.include({ attempts: 3, generation: 2 });
    expect(world.double.dispatches.length - before).to.equal(1);
  });
  it('lists the events an earlier version stored after the newer ones, across pages, and keeps their listing when they change', async () => {
    const model = (await acme.orchestration.events.get(`${repos.build?.id}-501-1`)) as ZektEvent;
    const eventOf = (runId: number, createdAt: string): ZektEvent => ({ ...model, id: `${repos.build?.id}-${runId}-1`, run: { ...model.run, id: runId }, createdAt });
    const table = globex.storage.table('events');
    // As an earlier version stored them: the event row, and its listing row in `event-time`.
    const older = [eventOf(801, '2020-01-01T00:00:00.000Z'), eventOf(802, '2020-01-02T00:00:00.000Z')];
    for (const e of older) {
      await table.createEntity({ partitionKey: 'event', rowKey: e.id, value: JSON.stringify(e) });
      await table.createEntity({ partitionKey: 'event-time', rowKey: `${String(1e13 - Date.parse(e.createdAt)).padStart(13, '0')}-${e.id}`, value: JSON.stringify(e) });
    }
    for (const e of [eventOf(803, '2026-01-01T00:00:00.000Z'), eventOf(804, '2026-01-02T00:00:00.000Z')]) await globex.orchestration.events.createIfAbsent(e);
    const pages = async (limit: number) => {
      const seen: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await call(globex, 'GET', `events?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).to.equal(200);
        seen.push((page.body.events as { run: { id: number } }[]).map((e) => e.run.id));
        cursor = (page.body.next_cursor as string | null) ?? undefined;
      } while (cursor && seen.length < 10);
      return seen;
    };
    expect(await pages(3)).to.deep.equal([[804, 803, 802], [801]]);
    expect(await pages(2)).to.deep.equal([[804, 803], [802, 801]]);
    expect(await pages(1)).to.deep.equal([[804], [803], [802], [801]]);
    // An older event that changes is listed once, as it is now.
    await globex.orchestration.events.update(older[0]?.id as string, (e) => ({ ...e, settledAt: '2020-01-03T00:00:00.000Z' }));
    const all = (await call(globex, 'GET', 'events?limit=10')).body.events as { id: string; settled_at?: string }[];
    expect(all.map((e) => e.id)).to.deep.equal([804, 803, 802, 801].map((r) => `${repos.build?.id}-${r}-1`));
    expect(all[3]?.settled_at).to.equal('2020-01-03T00:00:00.000Z');
  });
});
