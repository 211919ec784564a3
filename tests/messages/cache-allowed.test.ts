import { expect } from 'chai';
import { cacheAllowed } from '../../runtime/tenant/messages/cache-allowed.ts';

describe('messages: allowed repositories are remembered briefly', () => {
  it('keeps a yes for 30 s, never a no', async () => {
    let at = 0;
    const asked: number[] = [];
    const answers = new Map([[1, true], [2, false]]);
    const check = cacheAllowed(async (id) => (asked.push(id), answers.get(id) ?? false), { now: () => at });
    expect(await check(1)).to.equal(true);
    expect(await check(2)).to.equal(false);
    answers.set(1, false);
    answers.set(2, true);
    at = 29_999;
    // Repository 1 was removed, but this instance still allows it until its 30 s are over; 2 is allowed at once.
    expect([await check(1), await check(2)]).to.deep.equal([true, true]);
    at = 30_000;
    expect(await check(1)).to.equal(false);
    expect(asked).to.deep.equal([1, 2, 2, 1]);
  });
});
