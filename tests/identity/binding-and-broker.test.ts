import { expect } from 'chai';
import { request as octokitRequest } from '@octokit/request';
import { Browser, startIdentityHarness, type IdentityHarness } from './support.ts';

async function signedUp(h: IdentityHarness, login: string): Promise<Browser> {
  h.double.addUser({ login });
  h.double.signInAs(login);
  const browser = new Browser(h);
  await browser.signIn();
  expect((await browser.post('/api/signup')).status).to.equal(202);
  return browser;
}

describe('identity: installation binding and the token broker', () => {
  let h: IdentityHarness;
  let alice: Browser;
  let aliceInstallation: number;
  let providerId: number;
  let consumerId: number;

  beforeEach(async () => {
    h = await startIdentityHarness();
    alice = await signedUp(h, 'alice');
    const installation = h.double.addInstallation({
      account: 'alice',
      accountType: 'User',
      repositories: ['provider', 'consumer'],
      permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read', administration: 'write' },
      singleFilePaths: ['.github/zekt.yml'],
    });
    aliceInstallation = installation.id;
    const repos = [...installation.repositoryIds];
    [providerId, consumerId] = repos as [number, number];
  });
  afterEach(() => h.close());

  it("binds an installation the user's own token shows, and releases its parked deliveries", async () => {
    const res = await alice.fetch(`${h.platformUrl}/api/github/setup?installation_id=${aliceInstallation}&setup_action=install`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { tenantId: string; repositories: { fullName: string }[] };
    expect(body.tenantId).to.equal('alice');
    expect(body.repositories.map((r) => r.fullName).sort()).to.deep.equal(['alice/consumer', 'alice/provider']);
    expect(await h.installations.tenantOf(aliceInstallation)).to.equal('alice');
    expect(h.released).to.deep.equal([aliceInstallation]);
    const list = await alice.fetch(`${h.platformUrl}/api/installations`);
    expect(((await list.json()) as { installations: { installationId: number }[] }).installations.map((i) => i.installationId)).to.deep.equal([aliceInstallation]);
    expect(h.double.schemaErrors).to.deep.equal([]);
  });

  it('refuses a spoofed installation id (not among the user\'s) with 403 and binds nothing', async () => {
    const foreign = h.double.addInstallation({ account: 'globex', repositories: ['secret'] });
    const res = await alice.fetch(`${h.platformUrl}/api/github/setup?installation_id=${foreign.id}&setup_action=install`);
    expect(res.status).to.equal(403);
    expect(await h.installations.get(foreign.id)).to.equal(undefined);
    expect(h.released).to.deep.equal([]);
    expect((await alice.fetch(`${h.platformUrl}/api/github/setup?installation_id=abc`)).status).to.equal(400);
  });

  /** A signed-up user of the double, signed in to the platform (a member of `organizations`). */
  async function member(login: string, organizations: string[] = []): Promise<Browser> {
    h.double.addUser({ login, organizations });
    h.double.signInAs(login);
    const browser = new Browser(h);
    await browser.signIn();
    expect((await browser.post('/api/signup')).status).to.equal(202);
    return browser;
  }
  const setup = (browser: Browser, id: number) => browser.fetch(`${h.platformUrl}/api/github/setup?installation_id=${id}&setup_action=install`);

  it("refuses a plain member of the organisation (403, saying who can) and binds nothing, though GitHub lists the installation to them", async () => {
    const org = h.double.addInstallation({ account: 'shared-org', repositories: ['tool'] });
    const bob = await member('bob', ['shared-org']);
    const res = await setup(bob, org.id);
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/only an owner of shared-org, or the person who installed the app, can bind/);
    expect(await h.installations.tenantOf(org.id)).to.equal(undefined);
    expect(h.released).to.deep.equal([]);
    expect(h.double.schemaErrors).to.deep.equal([]);
  });

  it('binds for an owner of the organisation; a second owner\'s tenant is then refused with 409', async () => {
    const org = h.double.addInstallation({ account: 'shared-org', repositories: ['tool'] });
    const bob = await member('bob', ['shared-org']);
    h.double.setOrganizationRole('shared-org', 'bob', 'admin');
    expect((await setup(bob, org.id)).status).to.equal(200);
    expect(await h.installations.tenantOf(org.id)).to.equal('bob');
    expect((await h.installations.get(org.id))?.boundBy?.login).to.equal('bob');
    const carol = await member('carol', ['shared-org']);
    h.double.setOrganizationRole('shared-org', 'carol', 'admin');
    const res = await setup(carol, org.id);
    expect(res.status).to.equal(409);
    expect(await h.installations.tenantOf(org.id)).to.equal('bob');
  });

  it('binds for the plain member who installed the App: the sender of installation.created, recorded from the webhook', async () => {
    h.double.addUser({ login: 'dave', organizations: ['shared-org'] });
    const org = h.double.addInstallation({ account: 'shared-org', repositories: ['tool'], installer: 'dave' });
    // The registry learns the installer from GitHub's own installation.created payload.
    const created = h.double.payloads.installation({ action: 'created', installationId: org.id });
    expect((created.payload.sender as { login: string }).login).to.equal('dave');
    await h.installations.applyEvent(created.event, created.payload, new Date());
    h.double.signInAs('dave');
    const dave = new Browser(h);
    await dave.signIn();
    await dave.post('/api/signup');
    expect((await setup(dave, org.id)).status).to.equal(200);
    expect(await h.installations.tenantOf(org.id)).to.equal('dave');
    // Another plain member is still refused: installing is what entitled dave.
    const erin = await member('erin', ['shared-org']);
    expect((await setup(erin, org.id)).status).to.equal(403);
  });

  it('lets an owner reclaim an installation that a plain member bound before this check, and audits it', async () => {
    const org = h.double.addInstallation({ account: 'shared-org', repositories: ['tool'] });
    await member('mallory', ['shared-org']);
    // What the old check allowed: a row bound to a member's tenant, with no record of who bound it.
    await h.installations.bind(org.id, 'mallory', { accountLogin: 'shared-org', accountType: 'Organization', repositories: [] }, new Date());
    const owner = await member('olive', ['shared-org']);
    h.double.setOrganizationRole('shared-org', 'olive', 'admin');
    const res = await setup(owner, org.id);
    expect(res.status).to.equal(200);
    expect(await h.installations.tenantOf(org.id)).to.equal('olive');
    const row = await h.installations.get(org.id);
    expect(row?.reclaimed).to.deep.include({ fromTenantId: 'mallory' });
    expect(row?.reclaimed?.by.login).to.equal('olive');
    const audit = h.lines.find((l) => l.audit === 'installation-reclaimed');
    expect(audit).to.deep.include({ installationId: org.id, fromTenantId: 'mallory', toTenantId: 'olive', by: 'olive', entitlement: 'organization-admin' });
    // A plain member cannot take it back.
    h.double.signInAs('mallory');
    const mallory = new Browser(h);
    await mallory.signIn();
    expect((await setup(mallory, org.id)).status).to.equal(403);
    expect(await h.installations.tenantOf(org.id)).to.equal('olive');
  });

  it('refuses setup without a session (401) and without a tenant (409)', async () => {
    expect((await new Browser(h).fetch(`${h.platformUrl}/api/github/setup?installation_id=${aliceInstallation}`)).status).to.equal(401);
    h.double.addUser({ login: 'dave' });
    h.double.signInAs('dave');
    const dave = new Browser(h);
    await dave.signIn();
    expect((await dave.fetch(`${h.platformUrl}/api/github/setup?installation_id=${aliceInstallation}`)).status).to.equal(409);
  });

  describe('token broker', () => {
    const broker = async (token: string | undefined, body: unknown) => {
      const res = await fetch(`${h.platformUrl}/api/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    beforeEach(async () => {
      await alice.fetch(`${h.platformUrl}/api/github/setup?installation_id=${aliceInstallation}`);
    });

    it('mints a dispatch token: contents write on the one repository asked for, nothing more', async () => {
      const identity = h.tenantIdentity('alice');
      const res = await broker(h.brokerToken(identity), { purpose: 'dispatch', repository_id: consumerId });
      expect(res.status).to.equal(201);
      // GitHub always adds metadata: read to an installation token.
      expect(res.body.permissions).to.deep.equal({ contents: 'write', metadata: 'read' });
      expect(res.body.repository_ids).to.deep.equal([consumerId]);
      const token = res.body.token as string;
      expect(token).to.match(/^ghs_/);
      const gh = octokitRequest.defaults({ baseUrl: h.double.apiUrl, headers: { authorization: `token ${token}` } });
      await gh('POST /repos/{owner}/{repo}/dispatches', { owner: 'alice', repo: 'consumer', event_type: 'zekt.test' });
      expect(h.double.dispatches.map((d) => d.repository)).to.deep.equal(['alice/consumer']);
      let status = 0;
      await gh('POST /repos/{owner}/{repo}/dispatches', { owner: 'alice', repo: 'provider', event_type: 'zekt.test' }).catch((e: { status: number }) => (status = e.status));
      expect(status, 'the token does not reach the other repository').to.equal(404);
      const audit = [];
      for await (const row of h.storage.table('tokenaudit').listEntities<{ outcome: string }>()) audit.push(row.outcome);
      expect(audit).to.deep.equal(['granted']);
    });

    it('mints a subscriptions token that reads the config file and cannot dispatch', async () => {
      const res = await broker(h.brokerToken(h.tenantIdentity('alice')), { purpose: 'subscriptions', repository_id: consumerId });
      expect(res.status).to.equal(201);
      expect(res.body.permissions).to.deep.equal({ single_file: 'read', metadata: 'read' });
      expect(res.body.repository_ids).to.deep.equal([consumerId]);
      let status = 0;
      await octokitRequest('POST /repos/{owner}/{repo}/dispatches', { baseUrl: h.double.apiUrl, headers: { authorization: `token ${String(res.body.token)}` }, owner: 'alice', repo: 'consumer', event_type: 'zekt.test' }).catch(
        (e: { status: number }) => (status = e.status),
      );
      expect(status, 'single_file: read cannot dispatch').to.equal(403);
    });

    it('mints a repositories token: metadata read over the installation, to list its repositories', async () => {
      const res = await broker(h.brokerToken(h.tenantIdentity('alice')), { purpose: 'repositories', installation_id: aliceInstallation });
      expect(res.status).to.equal(201);
      expect(res.body.permissions).to.deep.equal({ metadata: 'read' });
      const listed = await octokitRequest('GET /installation/repositories', { baseUrl: h.double.apiUrl, headers: { authorization: `token ${String(res.body.token)}` } });
      expect(listed.data.repositories.map((r) => r.id).sort()).to.deep.equal([providerId, consumerId].sort());
    });

    it("refuses a tenant asking for another tenant's repository (403), audited", async () => {
      const bob = await signedUp(h, 'bob');
      void bob;
      const token = h.brokerToken(h.tenantIdentity('bob'));
      const res = await broker(token, { purpose: 'dispatch', repository_id: providerId });
      expect(res.status).to.equal(403);
      expect(res.body.token).to.equal(undefined);
      expect((await broker(token, { purpose: 'repositories', installation_id: aliceInstallation })).status).to.equal(403);
      const audit: { partitionKey: string; outcome: string }[] = [];
      for await (const row of h.storage.table('tokenaudit').listEntities<{ outcome: string }>()) audit.push({ partitionKey: row.partitionKey as string, outcome: row.outcome });
      expect(audit).to.deep.equal([
        { partitionKey: 'bob', outcome: 'refused' },
        { partitionKey: 'bob', outcome: 'refused' },
      ]);
    });

    it('takes a purpose, never permissions: naming permissions, many repositories or an unknown purpose is 400 and mints nothing', async () => {
      const token = h.brokerToken(h.tenantIdentity('alice'));
      for (const body of [
        { repository_ids: [providerId], permissions: { contents: 'write' } },
        { purpose: 'dispatch', repository_id: providerId, permissions: { administration: 'write' } },
        { purpose: 'dispatch', repository_ids: [providerId, consumerId] },
        { purpose: 'administer', repository_id: providerId },
        { purpose: 'repositories', repository_id: providerId },
      ]) {
        const res = await broker(token, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.token).to.equal(undefined);
      }
      const audit = [];
      for await (const row of h.storage.table('tokenaudit').listEntities()) audit.push(row);
      expect(audit).to.deep.equal([]);
    });

    it('refuses callers without a valid tenant identity token (401) and malformed bodies (400)', async () => {
      const identity = h.tenantIdentity('alice');
      const dispatch = { purpose: 'dispatch', repository_id: providerId };
      expect((await broker(undefined, dispatch)).status).to.equal(401);
      expect((await broker(h.brokerToken(identity, 'https://vault.azure.net'), dispatch)).status).to.equal(401);
      expect((await broker(h.brokerToken({ clientId: identity.clientId, secret: 'x'.repeat(64) }), dispatch)).status).to.equal(401);
      const expiring = h.brokerToken(identity);
      h.advanceClock(2 * 3600_000);
      expect((await broker(expiring, dispatch)).status).to.equal(401);
      const fresh = h.brokerToken(identity);
      expect((await broker(fresh, { purpose: 'dispatch' })).status).to.equal(400);
      expect((await broker(fresh, { purpose: 'dispatch', repository_id: -1 })).status).to.equal(400);
      expect((await broker(fresh, { ...dispatch, extra: 1 })).status).to.equal(400);
    });
  });
});
