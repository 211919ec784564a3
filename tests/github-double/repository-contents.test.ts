import { expect } from 'chai';
import { apiRequest, appAuth, control, receivedEvents, refusal, startWebhookReceiver, useGitHubDouble } from './support.ts';

interface Push {
  ref: string;
  before: string;
  after: string;
  commits: { id: string; message: string; added: string[]; modified: string[]; removed: string[] }[];
  head_commit: { id: string };
  repository: { full_name: string; default_branch: string };
  installation: { id: number };
  sender: { login: string };
}

describe('GitHub double: files committed through the control API, and their push webhooks', () => {
  const ctx = useGitHubDouble();
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let installationId: number;

  before(async () => {
    receiver = await startWebhookReceiver();
    ctx.double.setWebhookUrl(receiver.url);
    await control(ctx.double, 'POST', '/users', { login: 'octocat' });
    await control(ctx.double, 'POST', '/orgs', { login: 'acme', admins: ['octocat'] });
    await control(ctx.double, 'POST', '/repos', { owner: 'acme', name: 'deploy' });
    installationId = (await control<{ id: number }>(ctx.double, 'POST', '/installations', { account: 'acme', repositories: ['deploy'], installer: 'octocat' })).body.id;
  });
  after(() => receiver.close());
  beforeEach(() => receiver.received.splice(0));
  afterEach(() => expect(ctx.double.takeSchemaErrors()).to.deep.equal([]));

  /** A token that may read only `.github/zekt.yml` of acme/deploy (what Zekt's broker hands out for subscriptions). */
  async function singleFileToken(): Promise<string> {
    const { token } = await (await appAuth(ctx.double))({ type: 'installation', installationId, repositoryNames: ['deploy'], permissions: { single_file: 'read' } });
    return token;
  }

  it('commits a file on the default branch and sends a push with what changed', async () => {
    const put = await control(ctx.double, 'PUT', '/repos/acme/deploy/contents/.github/zekt.yml', { content: 'subscriptions: []\n', message: 'Subscribe to nothing', author: 'octocat' });
    expect(put.status).to.equal(200);
    const commit = put.body.commit as { sha: string; before: string };
    expect(put.body.change).to.equal('added');
    const [push] = receivedEvents(receiver.received);
    expect(push?.key).to.equal('push');
    const payload = push?.payload as unknown as Push;
    expect(payload.ref).to.equal('refs/heads/main');
    expect(payload.before).to.equal(commit.before);
    expect(payload.after).to.equal(commit.sha);
    expect(payload.head_commit.id).to.equal(commit.sha);
    expect(payload.commits).to.have.length(1);
    expect(payload.commits[0]).to.deep.include({ id: commit.sha, message: 'Subscribe to nothing', added: ['.github/zekt.yml'], modified: [], removed: [] });
    expect(payload.repository.full_name).to.equal('acme/deploy');
    expect(payload.repository.default_branch).to.equal('main');
    expect(payload.installation.id).to.equal(installationId);
    expect(payload.sender.login).to.equal('octocat');

    const { data } = await apiRequest(ctx.double, await singleFileToken())('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo: 'deploy', path: '.github/zekt.yml' });
    expect(Buffer.from((data as { content: string }).content, 'base64').toString('utf8')).to.equal('subscriptions: []\n');
  });

  it('sends modified and removed files on later commits, each push following the last', async () => {
    const first = await control(ctx.double, 'PUT', '/repos/acme/deploy/contents/.github/zekt.yml', { content: 'subscriptions:\n  - provider: acme/build\n' });
    expect(first.body.change).to.equal('modified');
    const removed = await control(ctx.double, 'DELETE', '/repos/acme/deploy/contents/.github/zekt.yml');
    expect(removed.status).to.equal(200);
    const pushes = receivedEvents(receiver.received).map((e) => e.payload as unknown as Push);
    expect(pushes.map((p) => p.commits[0]?.modified)).to.deep.equal([['.github/zekt.yml'], []]);
    expect(pushes.map((p) => p.commits[0]?.removed)).to.deep.equal([[], ['.github/zekt.yml']]);
    expect(pushes[1]?.before).to.equal(pushes[0]?.after);
    const gone = await refusal(apiRequest(ctx.double, await singleFileToken())('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo: 'deploy', path: '.github/zekt.yml' }));
    expect(gone.status).to.equal(404);
  });

  it('refuses bad commits with a 4xx, changes nothing and sends nothing', async () => {
    await control(ctx.double, 'PUT', '/repos/acme/deploy/contents/README.md', { content: '# deploy\n' });
    receiver.received.splice(0);
    const cases: [string, string, unknown, number][] = [
      ['PUT', '/repos/acme/deploy/contents/README.md', {}, 400],
      ['PUT', '/repos/acme/deploy/contents/README.md', { content: 42 }, 400],
      ['PUT', '/repos/acme/deploy/contents/a%5Cb', { content: 'x' }, 400],
      ['PUT', '/repos/acme/nothing/contents/README.md', { content: 'x' }, 404],
      ['DELETE', '/repos/acme/deploy/contents/missing.md', undefined, 404],
      ['PUT', '/repos/acme/deploy/contents/README.md', { content: 'x', author: 'nobody' }, 404],
    ];
    for (const [method, path, body, status] of cases) expect((await control(ctx.double, method, path, body)).status, `${method} ${path}`).to.equal(status);
    expect(receiver.received).to.deep.equal([]);
    const { token } = await (await appAuth(ctx.double))({ type: 'installation', installationId });
    const { data } = await apiRequest(ctx.double, token)('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo: 'deploy', path: 'README.md', headers: { accept: 'application/vnd.github.raw' } });
    expect(String(data)).to.equal('# deploy\n');
  });

  it('sends no push to an installation that does not subscribe to push', async () => {
    await control(ctx.double, 'POST', '/users', { login: 'hubot' });
    await control(ctx.double, 'POST', '/repos', { owner: 'hubot', name: 'notes' });
    await control(ctx.double, 'POST', '/installations', { account: 'hubot', repositories: ['notes'], installer: 'hubot', events: ['workflow_run'] });
    receiver.received.splice(0);
    const res = await control(ctx.double, 'PUT', '/repos/hubot/notes/contents/todo.md', { content: '- [ ] ship\n' });
    expect(res.status).to.equal(200);
    expect(res.body.pushDelivered).to.equal(false);
    expect(receiver.received).to.deep.equal([]);
  });
});
