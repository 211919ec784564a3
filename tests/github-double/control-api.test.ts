import { expect } from 'chai';
import { createControlApi } from '../../local/github-double/control-api.ts';
import { createSecondaryRateLimiter } from '../../local/github-double/secondary-rate-limit.ts';
import { GitHubState } from '../../local/github-double/state.ts';
import { appAuth, apiRequest, control, receivedEvents, startWebhookReceiver, useGitHubDouble } from './support.ts';

describe('GitHub double: the control API', () => {
  const ctx = useGitHubDouble();
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  before(async () => {
    receiver = await startWebhookReceiver();
    ctx.double.setWebhookUrl(receiver.url);
  });
  after(() => receiver.close());
  beforeEach(() => receiver.received.splice(0));

  it('lists its calls at its base URL', async () => {
    const res = await control<{ calls: string[] }>(ctx.double, 'GET', '');
    expect(res.status).to.equal(200);
    expect(res.body.calls).to.include('POST /_double/repos/{owner}/{repo}/runs/{id}/complete {conclusion}');
  });

  it('creates users, organisations with roles and repositories', async () => {
    const alice = await control(ctx.double, 'POST', '/users', { login: 'alice' });
    expect(alice.status).to.equal(201);
    expect(alice.body).to.have.keys('id', 'login');
    expect(alice.body.login).to.equal('alice');
    expect((await control(ctx.double, 'POST', '/users', { login: 'bob' })).status).to.equal(201);
    const org = await control(ctx.double, 'POST', '/orgs', { login: 'acme', admins: ['alice'], members: ['bob'] });
    expect(org.status).to.equal(201);
    expect(org.body.login).to.equal('acme');
    const repo = await control(ctx.double, 'POST', '/repos', { owner: 'acme', name: 'build' });
    expect(repo.status).to.equal(201);
    expect(repo.body).to.deep.include({ full_name: 'acme/build', default_branch: 'main' });
    expect(repo.body.id).to.be.a('number');
  });

  it('refuses bad input with a 4xx naming the problem, and changes nothing', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/users', { login: '-bad-' }, 400, /not a GitHub login/],
      ['POST', '/users', { login: 'alice' }, 409, /already exists/],
      ['POST', '/users', 'not json', 400, /not JSON/],
      ['POST', '/users', [], 400, /JSON object/],
      ['POST', '/orgs', { login: 'globex', admins: ['nobody'] }, 400, /unknown users.*nobody/],
      ['POST', '/orgs', { login: 'globex', admins: ['alice'], members: ['alice'] }, 400, /either an admin or a member/],
      ['POST', '/repos', { owner: 'nobody', name: 'x' }, 400, /unknown owner/],
      ['POST', '/repos', { owner: 'acme', name: '..' }, 400, /not a repository name/],
      ['POST', '/repos', { owner: 'acme', name: 'build' }, 409, /already exists/],
      ['POST', '/installations', { account: 'acme', repositories: ['build'], installer: 'nobody' }, 400, /unknown installer/],
      ['POST', '/installations', { account: 'acme', repositories: [], installer: 'alice' }, 400, /repositories must be/],
      ['POST', '/installations', { account: 'alice', repositories: 'all', installer: 'bob' }, 400, /only its owner/],
      ['POST', '/installations', { account: 'acme', repositories: 'all', installer: 'alice', permissions: { contents: 'all' } }, 400, /permissions/],
      ['POST', '/sign-in-as', { login: 'nobody' }, 404, /unknown user/],
      ['GET', '/dispatches?repository=acme', undefined, 400, /owner\/name/],
      ['PUT', '/rate-limits', { contentCreatingPerMinute: 0 }, 400, /at least 1/],
      ['PUT', '/rate-limits', { perSecond: 1 }, 400, /unknown budget/],
      ['POST', '/repos/acme/nothing/runs', { workflow: 'ci.yml' }, 404, /unknown repository/],
      ['POST', '/nothing', {}, 404, /no control call/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await control<{ error: string }>(ctx.double, method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).to.equal(status);
      expect(res.body.error, `${method} ${path}`).to.match(message);
    }
    const installations = await apiRequest(ctx.double)('GET /app/installations', { request: { hook: (await appAuth(ctx.double)).hook } });
    expect(installations.data).to.deep.equal([]);
    expect(receiver.received).to.deep.equal([]);
    expect((await control(ctx.double, 'GET', '/rate-limits')).body).to.deep.equal({ contentCreatingPerMinute: 80, contentCreatingPerHour: 500, pointsPerMinute: 900 });
  });

  it('installs the App and sends installation.created with the installer as sender', async () => {
    const res = await control(ctx.double, 'POST', '/installations', { account: 'acme', repositories: ['build', 'deploy'], installer: 'bob' });
    expect(res.status).to.equal(201);
    expect(res.body).to.have.keys('id');
    const [created] = receivedEvents(receiver.received);
    expect(created?.key).to.equal('installation.created');
    const payload = created?.payload as { sender: { login: string }; installation: { id: number; account: { login: string } }; repositories: { full_name: string }[] };
    expect(payload.sender.login).to.equal('bob');
    expect(payload.installation.id).to.equal(res.body.id);
    expect(payload.installation.account.login).to.equal('acme');
    expect(payload.repositories.map((r) => r.full_name)).to.deep.equal(['acme/build', 'acme/deploy']);
    expect(ctx.double.takeSchemaErrors()).to.deep.equal([]);
    // A second installation of the App on the same account is a conflict.
    expect((await control(ctx.double, 'POST', '/installations', { account: 'acme', repositories: 'all', installer: 'alice' })).status).to.equal(409);
  });

  it('changes the repositories of an installation, and uninstalls it, with the webhooks GitHub sends', async () => {
    const { body: installation } = await control<{ id: number }>(ctx.double, 'POST', '/installations', { account: 'alice', repositories: ['notes'], installer: 'alice' });
    receiver.received.splice(0);
    const changed = await control(ctx.double, 'POST', `/installations/${installation.id}/repositories`, { add: ['blog'], remove: ['notes'] });
    expect(changed.status).to.equal(200);
    expect(changed.body.repositories).to.deep.equal(['alice/blog']);
    const events = receivedEvents(receiver.received);
    expect(events.map((e) => e.key)).to.deep.equal(['installation_repositories.added', 'installation_repositories.removed']);
    expect((events[0]?.payload.repositories_added as { full_name: string }[]).map((r) => r.full_name)).to.deep.equal(['alice/blog']);
    expect((events[1]?.payload.repositories_removed as { full_name: string }[]).map((r) => r.full_name)).to.deep.equal(['alice/notes']);
    const refused: [unknown, number][] = [[{}, 400], [{ remove: ['notes'] }, 400], [{ add: ['..'] }, 400]];
    for (const [body, status] of refused) expect((await control(ctx.double, 'POST', `/installations/${installation.id}/repositories`, body)).status, JSON.stringify(body)).to.equal(status);
    expect((await control(ctx.double, 'POST', '/installations/1/repositories', { add: ['x'] })).status).to.equal(404);

    const listed = await control<{ event: string; action: string; statusCode: number }[]>(ctx.double, 'GET', '/deliveries?event=installation_repositories');
    expect(listed.body.map((d) => `${d.event}.${d.action}:${d.statusCode}`)).to.deep.equal(['installation_repositories.added:200', 'installation_repositories.removed:200']);

    receiver.received.splice(0);
    expect((await control(ctx.double, 'DELETE', `/installations/${installation.id}`)).status).to.equal(204);
    expect(receivedEvents(receiver.received).map((e) => e.key)).to.deep.equal(['installation.deleted']);
    expect((await control(ctx.double, 'DELETE', `/installations/${installation.id}`)).status).to.equal(404);
    expect(ctx.double.takeSchemaErrors()).to.deep.equal([]);
  });

  it('chooses who the OAuth flow signs in next', async () => {
    expect((await control(ctx.double, 'POST', '/sign-in-as', { login: 'bob' })).body).to.deep.equal({ login: 'bob' });
    ctx.double.setCallbackUrls(['http://127.0.0.1:9/callback']);
    const res = await fetch(`${ctx.double.webUrl}/login/oauth/authorize?client_id=${ctx.double.app.clientId}&state=s`, { redirect: 'manual' });
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const token = await fetch(`${ctx.double.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: ctx.double.app.clientId, client_secret: ctx.double.app.clientSecret, code }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const user = await apiRequest(ctx.double, token.access_token)('GET /user');
    expect(user.data.login).to.equal('bob');
  });

  it('answers loopback clients only', async () => {
    const state = new GitHubState(Date.now);
    const serve = createControlApi({
      state,
      mainApp: () => {
        throw new Error('not reached');
      },
      runs: undefined as never,
      commitFile: undefined as never,
      installApp: undefined as never,
      addRepository: undefined as never,
      signInAs: () => undefined,
      dispatches: [],
      deliveries: [],
      secondaryLimiter: createSecondaryRateLimiter({ now: Date.now }),
      changeRepositories: undefined as never,
      uninstall: undefined as never,
    });
    const request = (method: string, body = '') => ({ method, url: new URL('http://double.test/_double/users'), headers: {}, body: Buffer.from(body) });
    const remote = await serve(request('POST', '{"login":"eve"}'), '192.0.2.10');
    expect(remote.status).to.equal(403);
    expect(state.users.size, 'nothing created').to.equal(0);
    expect((await serve(request('POST', '{"login":"eve"}'), '::ffff:127.0.0.1')).status).to.equal(201);
    expect((await serve(request('POST', '{"login":"zoe"}'), '::1')).status).to.equal(201);
  });
});
