import { expect } from 'chai';
import { verify } from '@octokit/webhooks-methods';
import type { WebhookEvent } from '../../local/github-double/payload-builders.ts';
import { WebhookSchemaError } from '../../local/github-double/webhook-sender.ts';
import { apiRequest, appAuth, startWebhookReceiver as startReceiver, useGitHubDouble, type Received } from './support.ts';


describe('GitHub double: webhook deliveries', () => {
  const ctx = useGitHubDouble({ webhookTimeoutMs: 300 });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let installationId: number;

  before(async () => {
    receiver = await startReceiver();
    ctx.double.setWebhookUrl(receiver.url);
    installationId = ctx.double.addInstallation({ account: 'acme', repositories: ['provider', 'consumer'] }).id;
    ctx.double.addUser({ login: 'alice', organizations: ['acme'] });
  });
  after(() => receiver.close());
  beforeEach(() => {
    receiver.behaviour.status = 200;
    receiver.behaviour.delayMs = 0;
  });

  const appRequest = async () => {
    const { token } = await appAuth(ctx.double)({ type: 'app' });
    return apiRequest(ctx.double).defaults({ headers: { authorization: `bearer ${token}` } });
  };

  it("signs like GitHub: X-Hub-Signature-256 verifies with the App's webhook secret", async () => {
    const delivery = await ctx.double.sendWebhook(
      ctx.double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 77, conclusion: 'failure' }),
    );
    const got = receiver.received.at(-1) as Received;
    expect(await verify(ctx.double.app.webhookSecret, got.body, String(got.headers['x-hub-signature-256']))).to.equal(true);
    expect(await verify('another-secret', got.body, String(got.headers['x-hub-signature-256']))).to.equal(false);
    expect(got.headers).to.include({
      'x-github-event': 'workflow_run',
      'x-github-delivery': delivery.guid,
      'x-github-hook-id': String(ctx.double.app.hookId),
      'x-github-hook-installation-target-id': String(ctx.double.app.id),
      'x-github-hook-installation-target-type': 'integration',
      'content-type': 'application/json',
    });
    expect(got.headers['x-github-delivery']).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(got.headers['user-agent']).to.match(/^GitHub-Hookshot\//);
    const payload = JSON.parse(got.body) as { action: string; installation: { id: number }; workflow_run: { id: number; conclusion: string }; repository: { full_name: string } };
    expect(payload.action).to.equal('completed');
    expect(payload.installation.id).to.equal(installationId);
    expect(payload.workflow_run).to.include({ id: 77, conclusion: 'failure' });
    expect(payload.repository.full_name).to.equal('acme/provider');
    expect(delivery).to.include({ status: 'OK', statusCode: 200, redelivery: false, event: 'workflow_run', action: 'completed' });
  });

  it('builds every payload Zekt receives from real examples, valid against GitHub\'s webhook schemas', async () => {
    const events: WebhookEvent[] = [
      ...(['requested', 'in_progress', 'completed'] as const).map((action) =>
        ctx.double.payloads.workflowRun({ action, repository: 'acme/provider', runId: 5, runNumber: 3 }),
      ),
      ...(['queued', 'in_progress', 'completed', 'waiting'] as const).map((action) =>
        ctx.double.payloads.workflowJob({ action, repository: 'acme/provider', runId: 5, jobId: 50 }),
      ),
      ctx.double.payloads.installation({ action: 'created', installationId }),
      ctx.double.payloads.installation({ action: 'deleted', installationId }),
      ctx.double.payloads.installationRepositories({ action: 'added', installationId, repositories: ['consumer'] }),
      ctx.double.payloads.installationRepositories({ action: 'removed', installationId, repositories: ['consumer'] }),
      ctx.double.payloads.ping(),
    ];
    for (const event of events) {
      const delivery = await ctx.double.sendWebhook(event);
      expect(delivery.status, `${event.event}.${String(event.payload.action)}`).to.equal('OK');
    }
    const body = receiver.received.slice(-events.length).map((r) => r.body).join('\n');
    // Every URL points at the double; nothing of the examples' own names is left.
    expect(body).to.not.match(/api\.github\.com|octo-org|Codertocat/);
    expect(ctx.double.schemaErrors).to.deep.equal([]);
  });

  it('names each run and repository in its own URLs, and hands out payloads a caller may change without touching the next', () => {
    type Run = { workflow_run: { url: string; jobs_url: string; workflow_url: string; repository: { full_name: string; owner: { login: string } } } };
    const first = ctx.double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 901, workflowId: 31 }).payload as unknown as Run;
    first.workflow_run.repository.owner.login = 'changed';
    first.workflow_run.url = 'changed';
    const second = ctx.double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 902, workflowId: 32 }).payload as unknown as Run;
    const other = ctx.double.payloads.workflowRun({ action: 'completed', repository: 'acme/consumer', runId: 903 }).payload as unknown as Run;
    expect(second.workflow_run.url).to.equal(`${ctx.double.apiUrl}/repos/acme/provider/actions/runs/902`);
    expect(second.workflow_run.jobs_url).to.equal(`${ctx.double.apiUrl}/repos/acme/provider/actions/runs/902/jobs`);
    expect(second.workflow_run.workflow_url).to.equal(`${ctx.double.apiUrl}/repos/acme/provider/actions/workflows/32`);
    expect(second.workflow_run.repository.owner.login).to.equal('acme');
    expect(other.workflow_run.url).to.equal(`${ctx.double.apiUrl}/repos/acme/consumer/actions/runs/903`);
    expect(JSON.stringify(other)).to.not.match(/acme\/provider|runs\/90[12]/);
  });

  it('refuses to send a payload that breaks the schema, and records why', async () => {
    const { event, payload } = ctx.double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 6 });
    const broken = { ...payload, workflow_run: { ...(payload.workflow_run as object), id: 'six' } };
    const count = receiver.received.length;
    let error: unknown;
    try {
      await ctx.double.sendWebhook({ event, payload: broken });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(WebhookSchemaError);
    expect((error as WebhookSchemaError).webhook).to.equal('workflow-run-completed');
    expect(receiver.received).to.have.length(count);
    expect(ctx.double.takeSchemaErrors().map((e) => e.kind)).to.deep.equal(['invalid-webhook']);
  });

  it('records failed deliveries and redelivers them on request with the same GUID', async () => {
    receiver.behaviour.status = 503;
    const failed = await ctx.double.sendWebhook(ctx.double.payloads.workflowJob({ action: 'completed', repository: 'acme/provider', runId: 8, jobId: 80 }));
    expect(failed).to.include({ status: 'Invalid HTTP Response: 503', statusCode: 503 });

    const api = await appRequest();
    const failures = await api('GET /app/hook/deliveries', { status: 'failure', per_page: 100 });
    expect(failures.data.map((d) => Number(d.id))).to.include(failed.id);
    expect(failures.data.every((d) => d.status_code >= 400)).to.equal(true);

    receiver.behaviour.status = 202;
    const attempt = await api('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: failed.id });
    expect(attempt.status).to.equal(202);
    await ctx.double.settled();
    const again = receiver.received.at(-1) as Received;
    expect(again.headers['x-github-delivery']).to.equal(failed.guid);
    expect(again.body).to.equal(receiver.received.at(-2)?.body);

    const latest = (await api('GET /app/hook/deliveries', { per_page: 1 })).data[0];
    expect(latest).to.include({ guid: failed.guid, redelivery: true, status: 'OK', status_code: 202 });
    const detail = await api('GET /app/hook/deliveries/{delivery_id}', { delivery_id: Number(latest?.id) });
    expect(detail.data.request.headers).to.include({ 'x-github-delivery': failed.guid });
    expect(detail.data.response.payload).to.equal('answered 202');
  });

  it('gives up after the timeout, as GitHub does after 10 s', async () => {
    receiver.behaviour.delayMs = 1000;
    const delivery = await ctx.double.sendWebhook(ctx.double.payloads.ping());
    expect(delivery).to.include({ status: 'timed out' });
    expect(delivery.statusCode).to.be.at.least(400);
  });

  it('pages the delivery list with a cursor in the Link header, newest first', async () => {
    const api = await appRequest();
    const all = (await api('GET /app/hook/deliveries', { per_page: 100 })).data.map((d) => Number(d.id));
    expect(all.length).to.be.greaterThan(3);
    expect([...all].sort((a, b) => b - a)).to.deep.equal(all);
    const seen: number[] = [];
    let url: string | undefined = `${ctx.double.apiUrl}/app/hook/deliveries?per_page=2`;
    while (url) {
      const page: Awaited<ReturnType<typeof api<'GET /app/hook/deliveries'>>> = await api(`GET ${url}` as 'GET /app/hook/deliveries');
      seen.push(...page.data.map((d) => Number(d.id)));
      url = /<([^>]+)>;\s*rel="next"/.exec(page.headers.link ?? '')?.[1];
    }
    expect(seen).to.deep.equal(all);
  });
});
