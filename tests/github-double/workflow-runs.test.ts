import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { control, receivedEvents, startWebhookReceiver, useGitHubDouble } from './support.ts';

interface Handle {
  id: number;
  attempt: number;
  idTokenRequestUrl: string;
  idTokenRequestToken: string;
}

interface RunPayload {
  workflow_run: Record<string, unknown> & { id: number; run_attempt: number };
  workflow_job?: Record<string, unknown>;
}

describe('GitHub double: workflow runs through the control API', () => {
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

  const start = (body: unknown) => control<Handle>(ctx.double, 'POST', '/repos/acme/deploy/runs', body);

  it('starts a run: requested and in_progress webhooks in GitHub\'s shapes, with the run named as the test chose', async () => {
    const res = await start({ workflow: 'deploy.yml', name: 'Deploy', event: 'repository_dispatch', displayTitle: 'zekt 0f3c…' });
    expect(res.status).to.equal(201);
    expect(res.body).to.have.keys('id', 'attempt', 'idTokenRequestUrl', 'idTokenRequestToken');
    expect(res.body.attempt).to.equal(1);
    const events = receivedEvents(receiver.received);
    expect(events.map((e) => e.key)).to.deep.equal(['workflow_run.requested', 'workflow_job.queued', 'workflow_run.in_progress', 'workflow_job.in_progress']);
    const run = (events[0]?.payload as unknown as RunPayload).workflow_run;
    expect(run).to.deep.include({
      id: res.body.id,
      run_attempt: 1,
      display_title: 'zekt 0f3c…',
      name: 'Deploy',
      path: '.github/workflows/deploy.yml',
      event: 'repository_dispatch',
      head_branch: 'main',
      status: 'queued',
      conclusion: null,
      html_url: `${ctx.double.webUrl}/acme/deploy/actions/runs/${res.body.id}`,
    });
    expect(run.head_sha).to.match(/^[0-9a-f]{40}$/);
    const installation = (events[0]?.payload as { installation: { id: number } }).installation;
    expect(installation.id).to.equal(installationId);
    const job = (events[1]?.payload as unknown as RunPayload).workflow_job;
    expect(job).to.deep.include({ run_id: res.body.id, run_attempt: 1, status: 'queued', head_sha: run.head_sha, workflow_name: 'Deploy' });
  });

  it("hands the run an ID token request URL whose token carries the run's claims", async () => {
    const { body: handle } = await start({ workflow: '.github/workflows/release.yml', name: 'Release' });
    const res = await fetch(`${handle.idTokenRequestUrl}&audience=${encodeURIComponent('api://zekt')}`, { headers: { authorization: `Bearer ${handle.idTokenRequestToken}` } });
    expect(res.status).to.equal(200);
    const { value } = (await res.json()) as { value: string };
    const { payload } = await jwtVerify(value, createRemoteJWKSet(new URL(`${ctx.double.oidcIssuer}/.well-known/jwks`)), { issuer: ctx.double.oidcIssuer, audience: 'api://zekt' });
    const repository = (receivedEvents(receiver.received)[0]?.payload as { repository: { id: number } }).repository;
    expect(payload).to.deep.include({
      repository: 'acme/deploy',
      repository_id: String(repository.id),
      run_id: String(handle.id),
      run_attempt: '1',
      run_number: '1',
      workflow: 'Release',
      workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main',
      event_name: 'push',
      ref: 'refs/heads/main',
    });
    // Without an audience the token is for the owner's URL, as GitHub's default.
    const plain = await fetch(handle.idTokenRequestUrl, { headers: { authorization: `Bearer ${handle.idTokenRequestToken}` } });
    const { payload: defaulted } = await jwtVerify(((await plain.json()) as { value: string }).value, createRemoteJWKSet(new URL(`${ctx.double.oidcIssuer}/.well-known/jwks`)));
    expect(defaulted.aud).to.equal(`${ctx.double.webUrl}/acme`);
    const wrong = await fetch(`${handle.idTokenRequestUrl}&audience=x`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).to.equal(401);
    expect((await fetch(`${handle.idTokenRequestUrl}&audience=x`)).status).to.equal(401);
  });

  it('completes a run: the job\'s then the run\'s completed webhooks; the job token expires with it', async () => {
    const { body: handle } = await start({ workflow: 'ci.yml' });
    receiver.received.splice(0);
    const res = await control(ctx.double, 'POST', `/repos/acme/deploy/runs/${handle.id}/complete`, { conclusion: 'failure' });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ id: handle.id, attempt: 1, conclusion: 'failure' });
    const events = receivedEvents(receiver.received);
    expect(events.map((e) => e.key)).to.deep.equal(['workflow_job.completed', 'workflow_run.completed']);
    expect((events[1]?.payload as unknown as RunPayload).workflow_run).to.deep.include({ id: handle.id, status: 'completed', conclusion: 'failure', run_attempt: 1 });
    expect((events[0]?.payload as unknown as RunPayload).workflow_job).to.deep.include({ status: 'completed', conclusion: 'failure' });
    const late = await fetch(`${handle.idTokenRequestUrl}&audience=x`, { headers: { authorization: `Bearer ${handle.idTokenRequestToken}` } });
    expect(late.status).to.equal(401);
    expect(((await late.json()) as { error: string }).error).to.match(/completed/);
    const again = await control<{ error: string }>(ctx.double, 'POST', `/repos/acme/deploy/runs/${handle.id}/complete`, { conclusion: 'success' });
    expect(again.status).to.equal(409);
  });

  it('re-runs a finished run as a new attempt of the same run', async () => {
    const { body: first } = await start({ workflow: 'ci.yml', displayTitle: 'build 7' });
    expect((await control(ctx.double, 'POST', `/repos/acme/deploy/runs/${first.id}/rerun`)).status, 'not while it runs').to.equal(409);
    await control(ctx.double, 'POST', `/repos/acme/deploy/runs/${first.id}/complete`, { conclusion: 'failure' });
    receiver.received.splice(0);
    const res = await control<Handle>(ctx.double, 'POST', `/repos/acme/deploy/runs/${first.id}/rerun`);
    expect(res.status).to.equal(201);
    expect(res.body.id).to.equal(first.id);
    expect(res.body.attempt).to.equal(2);
    expect(res.body.idTokenRequestToken).to.not.equal(first.idTokenRequestToken);
    const requested = receivedEvents(receiver.received)[0]?.payload as unknown as RunPayload;
    expect(requested.workflow_run).to.deep.include({
      id: first.id,
      run_attempt: 2,
      display_title: 'build 7',
      previous_attempt_url: `${ctx.double.apiUrl}/repos/acme/deploy/actions/runs/${first.id}/attempts/1`,
    });
    await control(ctx.double, 'POST', `/repos/acme/deploy/runs/${first.id}/complete`, { conclusion: 'success' });
    const completed = receivedEvents(receiver.received).at(-1)?.payload as unknown as RunPayload;
    expect(completed.workflow_run).to.deep.include({ id: first.id, run_attempt: 2, conclusion: 'success' });
  });

  it('refuses bad runs with a 4xx and sends nothing', async () => {
    const cases: [string, unknown, number][] = [
      ['/repos/acme/deploy/runs', {}, 400],
      ['/repos/acme/deploy/runs', { workflow: 'notes.txt' }, 400],
      ['/repos/acme/deploy/runs', { workflow: '../x.yml' }, 400],
      ['/repos/acme/deploy/runs', { workflow: 'ci.yml', headSha: 'abc' }, 400],
      ['/repos/acme/deploy/runs', { workflow: 'ci.yml', actor: 'nobody' }, 404],
      ['/repos/acme/deploy/runs/123/complete', { conclusion: 'success' }, 404],
      ['/repos/acme/deploy/runs/abc/complete', { conclusion: 'success' }, 400],
    ];
    for (const [path, body, status] of cases) expect((await control(ctx.double, 'POST', path, body)).status, `${path} ${JSON.stringify(body)}`).to.equal(status);
    const { body: handle } = await start({ workflow: 'ci.yml' });
    receiver.received.splice(0);
    const bad = await control<{ error: string }>(ctx.double, 'POST', `/repos/acme/deploy/runs/${handle.id}/complete`, { conclusion: 'great' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.match(/success, failure/);
    expect(receiver.received).to.deep.equal([]);
  });

  it('sends no run webhooks for a repository the App is not installed on, but the run still has its ID token', async () => {
    await control(ctx.double, 'POST', '/repos', { owner: 'acme', name: 'private-tool' });
    const { status, body } = await control<Handle>(ctx.double, 'POST', '/repos/acme/private-tool/runs', { workflow: 'ci.yml' });
    expect(status).to.equal(201);
    expect(receiver.received).to.deep.equal([]);
    const res = await fetch(`${body.idTokenRequestUrl}&audience=x`, { headers: { authorization: `Bearer ${body.idTokenRequestToken}` } });
    expect(res.status).to.equal(200);
  });
});
