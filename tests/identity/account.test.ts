import { expect } from 'chai';
import { Browser, startIdentityHarness, type IdentityHarness } from './support.ts';

describe('identity: the contact e-mail and offboarding', () => {
  let h: IdentityHarness;
  let browser: Browser;
  beforeEach(async () => {
    h = await startIdentityHarness();
    h.double.addUser({ login: 'alice' });
    h.double.signInAs('alice');
    browser = new Browser(h);
    await browser.signIn();
  });
  afterEach(() => h.close());

  it('keeps the contact e-mail given at signup and shows it only to its account, never in a log', async () => {
    expect((await browser.post('/api/signup', { tenantId: 'acme', contactEmail: ' alice@example.com ' })).status).to.equal(202);
    const account = await browser.fetch(`${h.platformUrl}/api/account`);
    expect(await account.json()).to.deep.include({ contactEmail: 'alice@example.com' });
    expect(account.headers.get('cache-control')).to.equal('no-store');

    h.double.addUser({ login: 'bob' });
    h.double.signInAs('bob');
    const bob = new Browser(h);
    await bob.signIn();
    expect(await (await bob.fetch(`${h.platformUrl}/api/account`)).json()).to.not.have.property('contactEmail');
    expect(JSON.stringify(h.lines)).to.not.include('alice@example.com');
  });

  it('refuses a malformed contact e-mail with 400 and creates nothing', async () => {
    const res = await browser.post('/api/signup', { tenantId: 'acme', contactEmail: 'not-an-address' });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.match(/contactEmail/);
    expect(await h.registry.get('acme')).to.equal(undefined);
    expect(await (await browser.fetch(`${h.platformUrl}/api/account`)).json()).to.not.have.property('contactEmail');
  });

  it('offboards only with the CSRF token and the tenant named, then deletes the contact e-mail', async () => {
    await browser.post('/api/signup', { tenantId: 'acme', contactEmail: 'alice@example.com' });
    const del = (body: unknown, headers: Record<string, string> = {}) =>
      browser.fetch(`${h.platformUrl}/api/tenants/me`, {
        method: 'DELETE',
        headers: { 'content-type': 'application/json', origin: h.platformUrl, 'x-zekt-csrf': browser.csrf(), ...headers },
        body: JSON.stringify(body),
      });
    expect((await del({ confirm: 'acme' }, { 'x-zekt-csrf': 'wrong' })).status).to.equal(403);
    expect((await del({ confirm: 'acme' }, { origin: 'https://evil.example' })).status).to.equal(403);
    expect((await del({ confirm: 'acm' })).status).to.equal(400);
    expect((await del({})).status).to.equal(400);
    expect((await h.registry.require('acme')).status).to.equal('requested');

    const res = await del({ confirm: 'acme' });
    expect(res.status).to.equal(202);
    expect(await res.json()).to.deep.include({ tenantId: 'acme', status: 'deprovisioning' });
    expect((await h.registry.require('acme')).status).to.equal('deprovisioning');
    expect(await (await browser.fetch(`${h.platformUrl}/api/account`)).json()).to.not.have.property('contactEmail');
  });

  it('answers 409 to offboarding an account without a tenant', async () => {
    const res = await browser.fetch(`${h.platformUrl}/api/tenants/me`, {
      method: 'DELETE',
      headers: { origin: h.platformUrl, 'x-zekt-csrf': browser.csrf() },
      body: JSON.stringify({ confirm: 'alice' }),
    });
    expect(res.status).to.equal(409);
  });
});
