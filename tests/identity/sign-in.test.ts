import { expect } from 'chai';
import { decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { Browser, startIdentityHarness, type IdentityHarness } from './support.ts';

async function countRows(h: IdentityHarness, table: string): Promise<number> {
  let n = 0;
  for await (const _ of h.storage.table(table).listEntities()) n++;
  return n;
}

describe('identity: GitHub sign-in', () => {
  let h: IdentityHarness;
  beforeEach(async () => {
    h = await startIdentityHarness();
    h.double.addUser({ login: 'alice' });
    h.double.signInAs('alice');
  });
  afterEach(() => h.close());

  it('signs in through the OAuth flow with PKCE; the session is a cookie, the token stays server-side', async () => {
    const browser = new Browser(h);
    const login = await browser.fetch(`${h.platformUrl}/api/auth/login`);
    expect(login.status).to.equal(302);
    const authorize = new URL(login.headers.get('location') as string);
    expect(authorize.origin + authorize.pathname).to.equal(`${h.double.webUrl}/login/oauth/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(Buffer.from(authorize.searchParams.get('state') as string, 'base64url').length).to.be.at.least(32);
    expect(authorize.searchParams.get('client_id')).to.equal(h.double.app.clientId);

    const { visited } = await browser.follow(login.headers.get('location') as string);
    expect(visited.some((u) => u.startsWith(`${h.platformUrl}/api/auth/callback`))).to.equal(true);
    // Signed in, the browser lands on the console's overview (no return_to was given).
    expect(visited.at(-1)).to.equal(`${h.platformUrl}/overview`);
    const session = await browser.fetch(`${h.platformUrl}/api/auth/session`);
    expect(await session.json()).to.deep.include({ user: { id: (await sessionUserId(browser, h)) as number, login: 'alice' } });
    const setCookies = browser.cookies;
    expect(setCookies.has('zekt_session')).to.equal(true);
    expect(setCookies.has('zekt_auth')).to.equal(false);
    expect(h.double.schemaErrors).to.deep.equal([]);
  });

  it('refuses a reused state with 400 and creates nothing', async () => {
    const browser = new Browser(h);
    const login = await browser.fetch(`${h.platformUrl}/api/auth/login`);
    const consent = await browser.fetch(login.headers.get('location') as string);
    const callback = consent.headers.get('location') as string;
    expect((await browser.fetch(callback)).status).to.equal(302);
    const sessions = await countRows(h, 'sessions');
    const again = await browser.fetch(callback);
    expect(again.status).to.equal(400);
    expect(((await again.json()) as { error: string }).error).to.match(/state/);
    expect(await countRows(h, 'sessions')).to.equal(sessions);
  });

  it('refuses an expired state with 400', async () => {
    const browser = new Browser(h);
    const login = await browser.fetch(`${h.platformUrl}/api/auth/login`);
    const consent = await browser.fetch(login.headers.get('location') as string);
    h.advanceClock(11 * 60_000);
    const res = await browser.fetch(consent.headers.get('location') as string);
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.match(/expired/);
    expect(await countRows(h, 'sessions')).to.equal(0);
  });

  it('refuses a missing state and an unknown state with 400', async () => {
    const browser = new Browser(h);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/callback?code=abc`)).status).to.equal(400);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/callback?code=abc&state=${'A'.repeat(43)}`)).status).to.equal(400);
    expect(await countRows(h, 'sessions')).to.equal(0);
  });

  it("refuses a state issued to another browser (login CSRF) with 400", async () => {
    const victim = new Browser(h);
    const attacker = new Browser(h);
    const login = await attacker.fetch(`${h.platformUrl}/api/auth/login`);
    const consent = await attacker.fetch(login.headers.get('location') as string);
    // The attacker makes the victim's browser open the attacker's callback.
    const res = await victim.fetch(consent.headers.get('location') as string);
    expect(res.status).to.equal(400);
    expect(victim.cookies.has('zekt_session')).to.equal(false);
    expect(await countRows(h, 'sessions')).to.equal(0);
  });

  it("refuses a code minted for another flow's PKCE challenge (wrong verifier) with 400", async () => {
    const a = new Browser(h);
    const b = new Browser(h);
    const loginA = await a.fetch(`${h.platformUrl}/api/auth/login`);
    const consentA = await a.fetch(loginA.headers.get('location') as string);
    const loginB = await b.fetch(`${h.platformUrl}/api/auth/login`);
    const consentB = await b.fetch(loginB.headers.get('location') as string);
    // B's code with A's state: the server exchanges it with A's verifier, which does not match.
    const callbackA = new URL(consentA.headers.get('location') as string);
    const callbackB = new URL(consentB.headers.get('location') as string);
    callbackA.searchParams.set('code', callbackB.searchParams.get('code') as string);
    const res = await a.fetch(callbackA.toString());
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.match(/refused the authorization code/);
    expect(await countRows(h, 'sessions')).to.equal(0);
  });

  it('logs out with the CSRF token only; afterwards the session is gone', async () => {
    const browser = new Browser(h);
    await browser.signIn();
    const sessionCookie = browser.cookies.get('zekt_session');
    expect((await browser.post('/api/auth/logout', undefined, { 'x-zekt-csrf': 'wrong' })).status).to.equal(403);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/session`)).status).to.equal(200);
    expect((await browser.post('/api/auth/logout')).status).to.equal(204);
    browser.cookies.set('zekt_session', sessionCookie as string);
    expect((await browser.fetch(`${h.platformUrl}/api/auth/session`)).status).to.equal(401);
  });

  describe('signup', () => {
    it('creates the tenant as requested and enqueues provisioning; a second signup returns the same tenant', async () => {
      const browser = new Browser(h);
      await browser.signIn();
      const first = await browser.post('/api/signup');
      expect(first.status).to.equal(202);
      expect(await first.json()).to.include({ tenantId: 'alice', status: 'requested' });
      const second = await browser.post('/api/signup');
      expect(second.status).to.equal(200);
      expect(await second.json()).to.include({ tenantId: 'alice' });
      const jobs = await h.storage.queue('provisioning').peekMessages({ numberOfMessages: 32 });
      const decoded = jobs.peekedMessageItems.map((m) => decodeQueueMessage(m.messageText) as { tenantId: string });
      expect(decoded.length).to.be.at.least(1);
      expect(decoded.every((j) => j.tenantId === 'alice')).to.equal(true);
      const me = await browser.fetch(`${h.platformUrl}/api/tenants/me`);
      expect(me.status).to.equal(200);
      const body = (await me.json()) as Record<string, unknown>;
      expect(body).to.include({ tenantId: 'alice', status: 'requested' });
      expect(JSON.stringify(body)).to.not.match(/secret|key|token/i);
    });

    it('refuses signup without the CSRF token, or from another origin, and creates nothing', async () => {
      const browser = new Browser(h);
      await browser.signIn();
      expect((await browser.post('/api/signup', undefined, { 'x-zekt-csrf': '' })).status).to.equal(403);
      expect((await browser.post('/api/signup', undefined, { origin: 'https://evil.example' })).status).to.equal(403);
      expect(await h.registry.list()).to.deep.equal([]);
      expect(await countRows(h, 'accounts')).to.equal(0);
    });

    it('refuses signup without a session (401) and an invalid tenant id (400), creating nothing', async () => {
      const stranger = new Browser(h);
      expect((await stranger.post('/api/signup')).status).to.equal(401);
      const browser = new Browser(h);
      await browser.signIn();
      expect((await browser.post('/api/signup', { tenantId: 'Not_Valid!' })).status).to.equal(400);
      expect((await browser.post('/api/signup', 'a JSON string, not an object')).status).to.equal(400);
      const raw = await browser.fetch(`${h.platformUrl}/api/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-zekt-csrf': browser.csrf() },
        body: '{not json',
      });
      expect(raw.status).to.equal(400);
      expect(await h.registry.list()).to.deep.equal([]);
    });

    it('gives a second account wanting a taken id a suffixed one', async () => {
      const alice = new Browser(h);
      await alice.signIn();
      await alice.post('/api/signup', { tenantId: 'acme' });
      h.double.addUser({ login: 'bob' });
      h.double.signInAs('bob');
      const bob = new Browser(h);
      await bob.signIn();
      const res = await bob.post('/api/signup', { tenantId: 'acme' });
      expect(((await res.json()) as { tenantId: string }).tenantId).to.equal('acme-2');
    });
  });
});

async function sessionUserId(browser: Browser, h: IdentityHarness): Promise<number | undefined> {
  const res = await browser.fetch(`${h.platformUrl}/api/auth/session`);
  return ((await res.json()) as { user?: { id: number } }).user?.id;
}
