/**
 * Sign-in state does not only grow (hole 4 of the hardening issue): one client address may start
 * only so many sign-ins a minute (429 with Retry-After, no state written), and the purge timer
 * deletes abandoned states, ended sessions and ended rate windows while keeping live ones.
 */
import { expect } from 'chai';
import { platformStorageLayout } from '../../runtime/platform/platform-storage-layout.ts';
import { Browser, startIdentityHarness, type IdentityHarness } from './support.ts';

async function partitionCount(h: IdentityHarness, table: string, partition: string): Promise<number> {
  let n = 0;
  for await (const _ of h.storage.table(table).listEntities({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) n++;
  return n;
}

describe('identity: sign-in state is bounded and purged', () => {
  let h: IdentityHarness;
  before(async () => {
    h = await startIdentityHarness({ loginRatePerMinute: 3 });
    h.double.addUser({ login: 'alice' });
    h.double.signInAs('alice');
  });
  after(() => h.close());

  const { authStates, sessions } = platformStorageLayout.tables;
  const purge = async () => {
    const timer = h.functions.find((f) => f.name === 'purgeSignInState');
    if (timer?.kind !== 'timer') throw new Error('no purge timer');
    await timer.handler({ isPastDue: false }, {} as never);
  };

  it('answers 429 with Retry-After past the per-minute limit of one address, writing no state; a forged X-Forwarded-For does not help', async () => {
    // A fresh window, so the count starts at zero wherever in the minute the test runs.
    h.advanceClock(60_000 - (Date.now() % 60_000) + 1000);
    const login = (forged?: string) =>
      new Browser(h).fetch(`${h.platformUrl}/api/auth/login`, forged ? { headers: { 'x-forwarded-for': forged } } : {});
    for (let i = 0; i < 3; i++) expect((await login()).status).to.equal(302);
    const states = await partitionCount(h, authStates, 'state');
    const refused = await login();
    expect(refused.status).to.equal(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(((await refused.json()) as { error: string }).error).to.match(/too many sign-ins/);
    expect((await login('203.0.113.9')).status, 'the last hop is the peer, not what the client claims').to.equal(429);
    expect(await partitionCount(h, authStates, 'state')).to.equal(states);

    h.advanceClock(retryAfter * 1000);
    expect((await login()).status).to.equal(302);
  });

  it('purges abandoned states, ended sessions and ended rate windows; keeps what is live', async () => {
    h.advanceClock(60_000);
    const browser = new Browser(h);
    await browser.signIn();
    expect((await browser.fetch(`${h.platformUrl}/api/auth/session`)).status, 'signed in').to.equal(200);
    await purge();
    // Still live: the session just created, the states of this window.
    expect(await partitionCount(h, sessions, 'session')).to.equal(1);
    const liveStates = await partitionCount(h, authStates, 'state');
    expect(liveStates).to.be.greaterThan(0);
    expect(await partitionCount(h, authStates, 'rate')).to.be.greaterThan(0);

    h.advanceClock(11 * 60_000);
    await purge();
    expect(await partitionCount(h, authStates, 'state'), 'states nobody came back for').to.equal(0);
    expect(await partitionCount(h, authStates, 'rate')).to.equal(0);
    expect(await partitionCount(h, sessions, 'session')).to.equal(1);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/session`)).status).to.equal(200);

    h.advanceClock(8 * 3600_000);
    await purge();
    expect(await partitionCount(h, sessions, 'session')).to.equal(0);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/session`)).status).to.equal(401);
  });
});
