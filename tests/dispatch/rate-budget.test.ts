/**
 * The per-installation budget lives in storage: two runtime instances draining one burst share
 * it, and no window of the budget's length ever sees more dispatches arrive at GitHub than the
 * budget allows. Windows are scaled down (2 s instead of a minute, counted with the default 1 s
 * margin) so the test takes seconds.
 */
import { expect } from 'chai';
import { maxInWindow, startDispatchWorld, startFaultFront, until, type DispatchWorld, type FaultFront } from './support.ts';

describe('orchestration: the rate budget across two instances', function () {
  this.timeout(90_000);
  let world: DispatchWorld;
  let front: FaultFront;
  after(async () => {
    await world?.close();
    await front?.close();
  });

  it('drains a burst completely without one dispatch over the budget, with two dispatcher instances sharing it', async () => {
    world = await startDispatchWorld();
    front = await startFaultFront(world.double.apiUrl);
    const budget = 4;
    const windowMs = 2000;
    const tenant = await world.addTenant('acme', {
      orchestration: { config: { budgetPerMinute: budget, budgetPerHour: 1000 }, budgetWindows: { minuteMs: windowMs, hourMs: 3_600_000, marginMs: 1000 } },
      // One message per poll: the deliveries waiting for the next window are shared out between
      // the two instances instead of all going to whichever polls first.
      queueBatchSize: 1,
    });
    // The second instance sends through the front, so each instance's share can be counted.
    await tenant.addInstance({ apiUrl: front.url });
    const consumers = Array.from({ length: 10 }, (_, i) => `consumer${i}`);
    const repos = await world.install('acme', 'acme', ['build', ...consumers]);
    for (const name of consumers) await tenant.subscribe(repos[name] as never, [{ provider: repos.build as never, conclusions: ['success'] }]);

    const started = Date.now();
    await world.run({ action: 'completed', repository: 'acme/build', runId: 301 });
    await until('every consumer dispatched', () => (world.double.dispatches.length >= consumers.length ? true : undefined), 60_000);
    const drainMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    await tenant.drain();

    const arrivals = world.double.dispatches.map((d) => Date.parse(d.receivedAt));
    expect(world.double.dispatches.map((d) => d.repository).sort()).to.deep.equal(consumers.map((c) => `acme/${c}`).sort());
    expect(maxInWindow(arrivals, windowMs)).to.be.at.most(budget);
    // Both instances took part, and the burst needed the windows it had to: 10 at 4 a window.
    expect(front.seen.length).to.be.within(1, consumers.length - 1);
    expect(drainMs).to.be.at.least(2 * windowMs);
    const records = await tenant.orchestration.deliveries.ofEvent(`${repos.build?.id}-301-1`);
    expect(records.every((r) => r.status === 'dispatched' && r.attempts === 1)).to.equal(true);
  });
});
