import { expect } from 'chai';
import { Browser, startSubscriptionsWorld, type TenantRuntime, type World } from './support.ts';

describe("platform: the owner's tenant API proxy (/api/tenant/<path>)", function () {
  this.timeout(60_000);
  let world: World;
  let alice: Browser;
  let bob: Browser;
  let aliceRuntime: TenantRuntime;
  let bobRuntime: TenantRuntime;

  before(async () => {
    world = await startSubscriptionsWorld(['alice', 'bob']);
    alice = await world.signUp('alice');
    bob = await world.signUp('bob');
    aliceRuntime = await world.addTenant('alice');
    bobRuntime = await world.addTenant('bob');
    // Each tenant has learnt one installation of its own, so their answers differ.
    await aliceRuntime.state.rememberInstallation(111, new Date());
    await bobRuntime.state.rememberInstallation(222, new Date());
  });
  after(() => world?.close());

  const get = (browser: Browser, path: string) => browser.fetch(`${world.platformUrl}/api/tenant/${path}`);

  it("lets the signed-in owner read their own tenant's subscriptions", async () => {
    const res = await get(alice, 'subscriptions');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const body = (await res.json()) as { installations: number[] };
    expect(body.installations).to.deep.equal([111]);
  });

  it("never reaches another user's tenant: each owner sees only their own", async () => {
    const body = (await (await get(bob, 'subscriptions')).json()) as { installations: number[] };
    expect(body.installations).to.deep.equal([222]);
    // There is no way to name a tenant: the path is the tenant runtime's, the tenant is the session's.
    expect((await get(bob, 'subscriptions?tenant=alice').then((r) => r.json())) as { installations: number[] }).to.deep.include({ installations: [222] });
  });

  it('answers 401 without a session, 403 to a POST without the CSRF token, 404 off the allow-list', async () => {
    expect((await new Browser({ platformUrl: world.platformUrl }).fetch(`${world.platformUrl}/api/tenant/subscriptions`)).status).to.equal(401);
    const noCsrf = await alice.fetch(`${world.platformUrl}/api/tenant/subscriptions/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noCsrf.status).to.equal(403);
    const foreignOrigin = await alice.post('/api/tenant/subscriptions/sync', {}, { origin: 'https://evil.example' });
    expect(foreignOrigin.status).to.equal(403);
    expect((await get(alice, 'webhooks')).status).to.equal(404);
    expect((await get(alice, 'health')).status).to.equal(404);
    expect((await alice.post('/api/tenant/subscriptions')).status).to.equal(404);
  });

  it('passes a POST with its CSRF token through, and the runtime\'s 4xx back unchanged', async () => {
    const res = await alice.post('/api/tenant/subscriptions/sync', { repository: 'not a name' });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.include('owner/repo');
  });

  it("answers 409 to a signed-in user without a tenant", async () => {
    world.double.addUser({ login: 'carol' });
    world.double.signInAs('carol');
    const carol = new Browser({ platformUrl: world.platformUrl });
    await carol.signIn();
    expect((await get(carol, 'subscriptions')).status).to.equal(409);
  });

  it("refuses one tenant's credential on another tenant's runtime", async () => {
    const aliceCredential = await aliceRuntime.credential('user:alice');
    expect((await bobRuntime.api('GET', 'subscriptions', undefined, aliceCredential)).status).to.equal(401);
    expect((await aliceRuntime.api('GET', 'subscriptions', undefined, aliceCredential)).status).to.equal(200);
  });
});
