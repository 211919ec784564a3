/**
 * The dispatcher's answers to GitHub's: rate limits wait for what GitHub says, 5xx retry on the
 * schedule, other 4xx end the delivery with the reason; and redelivery from the record. A fault
 * front (node:http) answers the scripted statuses before it proxies to the GitHub double.
 */
import { expect } from 'chai';
import { startDispatchWorld, startFaultFront, until, type DispatchWorld, type FaultFront, type TenantUnderTest } from './support.ts';
import type { DeliveryRecord } from '../../runtime/tenant/dispatch/delivery-record.ts';

describe('orchestration: retries, dead letters and redelivery', function () {
  this.timeout(60_000);
  let world: DispatchWorld;
  let front: FaultFront;
  let tenant: TenantUnderTest;
  let repos: Record<string, { id: number; fullName: string }>;

  before(async () => {
    world = await startDispatchWorld();
    front = await startFaultFront(world.double.apiUrl);
    tenant = await world.addTenant('acme', { apiUrl: front.url });
    repos = await world.install('acme', 'acme', ['build', 'deploy']);
    await tenant.subscribe(repos.deploy as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
  });
  after(async () => {
    await world?.close();
    await front?.close();
  });

  const deliveryOf = (runId: number) => `${repos.build?.id}-${runId}-1.${repos.deploy?.id}`;
  const settled = (runId: number, status: DeliveryRecord['status']) =>
    until(`delivery of run ${runId} to be ${status}`, async () => {
      const r = (await tenant.orchestration.deliveries.read(deliveryOf(runId)))?.record;
      return r?.status === status ? r : undefined;
    });
  const dispatchesOf = (runId: number) => world.double.dispatches.filter((d) => (d.clientPayload as { run: { id: number } }).run.id === runId);

  it('waits for retry-after on a 429, then dispatches', async () => {
    front.script.push({ status: 429, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit.' } });
    const before = front.seen.length;
    await world.run({ action: 'completed', repository: 'acme/build', runId: 201 });
    const record = await settled(201, 'dispatched');
    const seen = front.seen.slice(before);
    expect(seen.map((s) => s.status)).to.deep.equal([429, 204]);
    expect((seen[1]?.at as number) - (seen[0]?.at as number)).to.be.at.least(2000);
    expect(record).to.include({ attempts: 2, retries: 0 });
    expect(record.lastError).to.match(/rate limit \(429\)/);
    expect(dispatchesOf(201)).to.have.length(1);
  });

  it('retries a 5xx on the schedule, then dispatches', async () => {
    front.script.push({ status: 502 }, { status: 503 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 202 });
    const record = await settled(202, 'dispatched');
    expect(record).to.include({ attempts: 3, retries: 2 });
    expect(record.lastError).to.match(/503/);
    expect(dispatchesOf(202)).to.have.length(1);
  });

  it('gives up when the schedule is used up, keeping the last error', async () => {
    front.script.push({ status: 500 }, { status: 500 }, { status: 500 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 203 });
    const record = await settled(203, 'dead');
    expect(record.attempts).to.equal(3);
    expect(record.lastError).to.match(/gave up after 3 failed attempts: GitHub answered 500/);
    expect(dispatchesOf(203)).to.have.length(0);
  });

  it('dead-letters a 404 at once, with the reason', async () => {
    front.script.push({ status: 404, body: { message: 'Not Found' } });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 204 });
    const record = await settled(204, 'dead');
    expect(record).to.include({ attempts: 1, lastError: 'GitHub answered 404: Not Found' });
    await tenant.drain();
    expect(dispatchesOf(204)).to.have.length(0);
  });

  it('redelivers a dead delivery from its record as a new generation', async () => {
    const before = await tenant.orchestration.redeliver(deliveryOf(204));
    expect(before).to.include({ status: 'queued', generation: 2, correlationId: `zekt.${deliveryOf(204)}.2` });
    const record = await settled(204, 'dispatched');
    expect(record).to.include({ attempts: 2, generation: 2 });
    const sent = dispatchesOf(204);
    expect(sent).to.have.length(1);
    expect((sent[0]?.clientPayload as { zekt: { correlation_id: string } }).zekt.correlation_id).to.equal(`zekt.${deliveryOf(204)}.2`);
  });

  it('honours x-ratelimit-reset on a 403 with no requests remaining, pausing the installation', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 2;
    front.script.push({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded' } });
    await world.run({ action: 'completed', repository: 'acme/build', runId: 205 });
    const record = await settled(205, 'dispatched');
    expect(record.attempts).to.equal(2);
    expect(Date.parse(record.dispatchedAt as string)).to.be.at.least(reset * 1000);
  });
});
