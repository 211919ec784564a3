/**
 * The round loop's gather (runtime/storage/group-commit.ts `gatherMs`): writes nobody waits on
 * (the router's `delivered` marks) wait a little for company, so that rounds of one row become
 * rounds of many; a full transaction's worth goes at once; without a gather, a round is what
 * arrived in one turn of the event loop.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGroupCommit } from '../../runtime/storage/group-commit.ts';

function recorder(gatherMs?: number) {
  const rounds: string[][] = [];
  const done = new Map<string, () => void>();
  const commit = createGroupCommit<string>({
    partitionOf: (item) => item.split(':')[0] as string,
    sizeOf: () => 1,
    commitRound: async (round) => {
      const items = [...round.values()].flat();
      rounds.push(items.sort());
      await sleep(5);
      for (const item of items) done.get(item)?.();
    },
    ...(gatherMs !== undefined ? { gatherMs } : {}),
  });
  const add = (item: string) => new Promise<void>((resolve) => {
    done.set(item, resolve);
    commit.add(item);
  });
  return { rounds, add };
}

describe('storage: group commit rounds that gather', () => {
  it('without a gather, items added in different turns of the event loop are separate rounds', async () => {
    const { rounds, add } = recorder();
    const first = add('p:1');
    await sleep(20);
    const second = add('p:2');
    await Promise.all([first, second]);
    expect(rounds).to.deep.equal([['p:1'], ['p:2']]);
  });

  it('with a gather, items added within it are one round, across partitions; a later one waits for its own', async () => {
    const { rounds, add } = recorder(80);
    const gathered = [add('p:1')];
    await sleep(20);
    gathered.push(add('q:2'));
    await sleep(20);
    gathered.push(add('p:3'));
    await Promise.all(gathered);
    expect(rounds).to.deep.equal([['p:1', 'p:3', 'q:2']]);
    await add('p:4');
    expect(rounds).to.deep.equal([['p:1', 'p:3', 'q:2'], ['p:4']]);
  });

  it('what arrives during a commit gathers again, unless a full transaction is already waiting', async () => {
    const { rounds, add } = recorder(60);
    const first = add('p:0');
    await sleep(62); // the first round is committing (5 ms)
    const many = Array.from({ length: 150 }, (_, i) => add(`p:${String(i + 1).padStart(3, '0')}`));
    const started = Date.now();
    await Promise.all([first, ...many]);
    // 150 waiting: a full round (100) at once, then the 50 left gather before theirs.
    expect(rounds.map((r) => r.length)).to.deep.equal([1, 100, 50]);
    expect(Date.now() - started).to.be.greaterThanOrEqual(55);
  });
});
