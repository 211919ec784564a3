/**
 * A delivery held by the rate budget goes once its slot frees. A short wait is spent in the
 * installation's line (the second taker is granted, not told to come back); a longer one comes
 * back as a delayed message that is visible when the slot frees, not a rounded-up second later.
 */
import { expect } from 'chai';
import { createRateBudget } from '../../runtime/tenant/dispatch/rate-budget.ts';
import { slotWait } from '../../runtime/tenant/dispatch/slot-wait.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { maxInWindow, startDispatchWorld, until, type DispatchWorld } from './support.ts';

describe('orchestration: a budget-held delivery goes when its slot frees', function () {
  this.timeout(60_000);

  async function budgetOf(minuteMs: number, holdMs?: number) {
    const storage = await sharedStorage();
    const table = uniqueName('budget');
    await storage.ensure({ tables: [table] });
    return createRateBudget({ table: storage.table(table), perMinute: 1, perHour: 100, minuteMs, marginMs: 0, ...(holdMs !== undefined ? { holdMs } : {}) });
  }

  it('grants a taker that would wait less than a second once the slot frees, one window after the first', async () => {
    const budget = await budgetOf(300);
    const answers = await Promise.all([budget.acquire(7), budget.acquire(7), budget.acquire(7)]);
    expect(answers).to.deep.equal([{ granted: true }, { granted: true }, { granted: true }]);
    const stamps = await budget.stamps(7);
    expect(stamps).to.have.length(3);
    expect(maxInWindow(stamps, 300)).to.equal(1);
  });

  it('answers a longer wait at once, and a short one too when holding is off', async () => {
    const long = await budgetOf(5000);
    expect(await long.acquire(8)).to.deep.equal({ granted: true });
    const second = await long.acquire(8);
    expect(second.granted).to.equal(false);
    expect(second.granted ? 0 : second.waitMs).to.be.within(4000, 5000);
    const unheld = await budgetOf(300, 0);
    await unheld.acquire(9);
    expect((await unheld.acquire(9)).granted).to.equal(false);
    expect(await unheld.stamps(9)).to.have.length(1);
  });

  it('answers at once a taker whose turn would come after the hold, while the one ahead waits in line', async () => {
    const budget = await budgetOf(600);
    expect(await budget.acquire(10)).to.deep.equal({ granted: true });
    // The next waits 600 ms in line; the two behind it would wait about 1.2 s: told so at once.
    const [next, ...behind] = await Promise.all([budget.acquire(10), budget.acquire(10), budget.acquire(10)]);
    expect(next).to.deep.equal({ granted: true });
    for (const answer of behind) {
      expect(answer.granted).to.equal(false);
      expect(answer.granted ? 0 : answer.waitMs).to.be.within(1001, 1200);
    }
    expect(await budget.stamps(10)).to.have.length(2);
  });

  it('estimates each place in line from the log: slots free a window after they were taken', () => {
    const log = { stamps: [0, 100], pausedUntil: 0 };
    const minute = { lengthMs: 1000, limit: 2 };
    expect([0, 1, 2, 3].map((p) => slotWait(log, [minute], 500, p))).to.deep.equal([500, 600, 1500, 1600]);
    expect(slotWait({ stamps: [400], pausedUntil: 0 }, [minute], 500, 0)).to.equal(0);
    expect(slotWait({ stamps: [400], pausedUntil: 0 }, [minute], 500, 1)).to.equal(900);
    expect(slotWait({ ...log, pausedUntil: 3000 }, [minute], 500, 0)).to.equal(2500);
    expect(slotWait(log, [minute, { lengthMs: 5000, limit: 3 }], 500, 1)).to.equal(4500);
  });

  describe('through the tenant runtime', () => {
    let world: DispatchWorld;
    after(() => world?.close());

    it('drains one a window when each wait is 2.1 s, without rounding each up to 3 s', async () => {
      world = await startDispatchWorld();
      const windowMs = 2100;
      const tenant = await world.addTenant('acme', {
        orchestration: { config: { budgetPerMinute: 1, budgetPerHour: 1000 }, budgetWindows: { minuteMs: windowMs, hourMs: 3_600_000, marginMs: 0 } },
      });
      const consumers = Array.from({ length: 5 }, (_, i) => `consumer${i}`);
      const repos = await world.install('acme', 'acme', ['build', ...consumers]);
      for (const name of consumers) await tenant.subscribe(repos[name] as never, [{ provider: repos.build as never, conclusions: ['success'] }]);

      await world.run({ action: 'completed', repository: 'acme/build', runId: 401 });
      // Four waits of 2.1 s (too long to hold in line): about 8.4 s when each held delivery comes
      // back as its slot frees; 12 s or more if each came back at a whole 3 s (or after a poll's backoff).
      await until('every consumer dispatched', () => (world.double.dispatches.length >= consumers.length ? true : undefined), 10_500);
      await tenant.drain();

      expect(world.double.dispatches.map((d) => d.repository).sort()).to.deep.equal(consumers.map((c) => `acme/${c}`).sort());
      const records = await tenant.orchestration.deliveries.ofEvent(`${repos.build?.id}-401-1`);
      expect(records.map((r) => [r.status, r.attempts])).to.deep.equal(consumers.map(() => ['dispatched', 1]));
      const installationId = records[0]?.installationId as number;
      const stamps = await tenant.orchestration.budget.stamps(installationId);
      expect(stamps).to.have.length(consumers.length);
      expect(maxInWindow(stamps, windowMs)).to.equal(1);
    });

    it('counts its windows ZEKT_DISPATCH_BUDGET_MARGIN_MS longer than a minute, on the scaled clock too', async () => {
      world ??= await startDispatchWorld();
      // A "minute" of 1 s (the clock scaled 60×) and a margin of 400 ms: one slot, free again after 1.4 s.
      const tenant = await world.addTenant('globex', { orchestration: { config: { budgetPerMinute: 1, budgetPerHour: 1000, budgetTimeScale: 60, budgetMarginMs: 400 } } });
      expect((await tenant.orchestration.budget.acquire(77)).granted).to.equal(true);
      const firstAt = Date.now();
      await new Promise((r) => setTimeout(r, 1100));
      // The window is over, the margin is not: the taker waits in line (under a second) until it is.
      expect((await tenant.orchestration.budget.acquire(77)).granted).to.equal(true);
      expect(Date.now() - firstAt).to.be.at.least(1390);
      expect(await tenant.orchestration.budget.stamps(77)).to.have.length(2);
    });
  });
});
