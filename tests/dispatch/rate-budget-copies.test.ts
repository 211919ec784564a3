/**
 * The rate budget's own copy of its row: an instance takes a slot over the row as it last wrote
 * it, without reading it first. A copy another instance has overtaken must never let a slot over
 * the budget, nor keep a "no" that the row no longer says.
 */
import { expect } from 'chai';
import { createRateBudget } from '../../runtime/tenant/dispatch/rate-budget.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';

describe('orchestration: the rate budget over each instance\'s copy of its row', () => {
  async function twoInstances(perMinute: number, clock: () => number) {
    const storage = await sharedStorage();
    const table = storage.table(uniqueName('budget'));
    await table.createTable();
    const options = { table, perMinute, perHour: 1000, minuteMs: 60_000, hourMs: 3_600_000, marginMs: 0, now: clock };
    return { a: createRateBudget(options), b: createRateBudget(options) };
  }

  it('never grants more than the budget when the other instance wrote since this one\'s copy', async () => {
    let at = 1_000_000;
    const { a, b } = await twoInstances(4, () => at);
    const granted: string[] = [];
    const take = async (who: 'a' | 'b') => {
      at += 10;
      if ((await (who === 'a' ? a : b).acquire(7)).granted) granted.push(who);
    };
    // Each instance's copy falls behind the other's writes, turn by turn.
    for (const who of ['a', 'a', 'b', 'a', 'b', 'a', 'b', 'b'] as const) await take(who);
    expect(granted).to.deep.equal(['a', 'a', 'b', 'a']);
    expect(await a.stamps(7)).to.have.length(4);
    const answer = await b.acquire(7);
    expect(answer.granted).to.equal(false);
    expect(answer.granted ? 0 : answer.waitMs).to.be.within(59_000, 60_000);
  });

  it('answers no from the row, not from its copy: a pause only the other instance wrote, then a slot once both are over', async () => {
    let at = 2_000_000;
    const { a, b } = await twoInstances(1, () => at);
    expect((await a.acquire(8)).granted).to.equal(true);
    // a's copy says the minute is full; b pauses the installation, which a's copy does not know:
    // the wait a answers is the pause's, read from the row.
    await b.pause(8, at + 5000);
    at += 100;
    const held = await a.acquire(8);
    expect(held.granted).to.equal(false);
    expect(held.granted ? 0 : held.waitMs).to.equal(4900);
    // A minute later the window has room again and the pause is over: a slot, over the current row.
    at += 60_000;
    expect((await a.acquire(8)).granted).to.equal(true);
    expect(await b.stamps(8)).to.deep.equal([2_000_000, 2_060_100]);
  });
});
