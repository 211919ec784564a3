import { expect } from 'chai';
import { apiRequest, refusal, useGitHubDouble, userToken } from './support.ts';

const callback = 'http://127.0.0.1:9/api/auth/callback';

describe("GitHub double: organisation roles and GitHub's membership API (user tokens)", () => {
  const ctx = useGitHubDouble({ app: { callbackUrls: [callback] } });

  before(() => {
    for (const login of ['alice', 'bob', 'mallory', 'carol']) ctx.double.addUser({ login });
    ctx.double.addOrganization({ login: 'acme', admins: ['alice'], members: ['bob'] });
    ctx.double.addInstallation({ account: 'acme', repositories: ['build'] });
    // An organisation where the App lacks the members permission.
    ctx.double.addOrganization({ login: 'globex', admins: ['carol'] });
    ctx.double.addInstallation({ account: 'globex', repositories: ['tool'], permissions: { actions: 'read', metadata: 'read' } });
  });
  afterEach(() => expect(ctx.double.takeSchemaErrors()).to.deep.equal([]));

  it('tells an admin and a plain member their role', async () => {
    const admin = await apiRequest(ctx.double, await userToken(ctx.double, 'alice', callback))('GET /user/memberships/orgs/{org}', { org: 'acme' });
    expect(admin.data).to.deep.include({ state: 'active', role: 'admin' });
    expect(admin.data.organization.login).to.equal('acme');
    expect(admin.data.user?.login).to.equal('alice');
    const member = await apiRequest(ctx.double, await userToken(ctx.double, 'bob', callback))('GET /user/memberships/orgs/{org}', { org: 'acme' });
    expect(member.data.role).to.equal('member');
  });

  it("shows a member another member's role, and hides memberships from outsiders (404)", async () => {
    const bob = apiRequest(ctx.double, await userToken(ctx.double, 'bob', callback));
    expect((await bob('GET /orgs/{org}/memberships/{username}', { org: 'acme', username: 'alice' })).data.role).to.equal('admin');
    expect((await refusal(bob('GET /orgs/{org}/memberships/{username}', { org: 'acme', username: 'mallory' }))).status).to.equal(404);
    const mallory = apiRequest(ctx.double, await userToken(ctx.double, 'mallory', callback));
    expect((await refusal(mallory('GET /user/memberships/orgs/{org}', { org: 'acme' }))).status).to.equal(404);
    expect((await refusal(mallory('GET /orgs/{org}/memberships/{username}', { org: 'acme', username: 'alice' }))).status).to.equal(404);
    expect((await refusal(mallory('GET /user/memberships/orgs/{org}', { org: 'no-such-org' }))).status).to.equal(404);
  });

  it('answers 403 when the App was not granted members: read on the organisation', async () => {
    const carol = apiRequest(ctx.double, await userToken(ctx.double, 'carol', callback));
    const refused = await refusal(carol('GET /user/memberships/orgs/{org}', { org: 'globex' }));
    expect(refused.status).to.equal(403);
    expect(refused.data.message).to.equal('Resource not accessible by integration');
  });

  it('follows role changes', async () => {
    ctx.double.setOrganizationRole('acme', 'bob', 'admin');
    const member = await apiRequest(ctx.double, await userToken(ctx.double, 'bob', callback))('GET /user/memberships/orgs/{org}', { org: 'acme' });
    expect(member.data.role).to.equal('admin');
  });
});
