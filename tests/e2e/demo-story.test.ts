/**
 * The story `npm start` tells on a first start, run as it runs there: the real local platform
 * (Azurite, the GitHub double, the control plane provisioning a tenant compartment with its own
 * runtime process), driven only over HTTP — the console's API, the double's control API, and the
 * bundled Zekt Action run as a runner runs it.
 */
import { createAppAuth } from '@octokit/auth-app';
import { expect } from 'chai';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { demoMessage, runDemoStory, type StoryMoment } from '../../local/demo/demo-story.ts';
import type { GitHubDouble } from '../../local/github-double/start-github-double.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { memoryLogger } from '../support/logs.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * GitHub sends the provider's `workflow_run.completed` twice more: a redelivery asked for through
 * the App's API (the same GUID) and a fresh copy of the same payload (a new GUID, as when GitHub
 * delivers an event twice). Answers the three deliveries' GUIDs.
 */
async function repeatCompleted(double: GitHubDouble, runId: number): Promise<string[]> {
  const original = double.deliveries.find((d) => d.event === 'workflow_run' && d.action === 'completed' && (d.request.payload.workflow_run as { id?: number } | undefined)?.id === runId);
  if (!original) throw new Error(`no workflow_run.completed delivery of run ${runId}`);
  const { token } = await createAppAuth({ appId: double.app.id, privateKey: double.app.privateKey })({ type: 'app' });
  const [redelivery, copy] = await Promise.all([
    fetch(`${double.apiUrl}/app/hook/deliveries/${original.id}/attempts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json' } }),
    double.sendWebhook({ event: 'workflow_run', payload: original.request.payload }),
  ]);
  expect(redelivery.status, 'redelivery asked for').to.equal(202);
  await double.settled();
  return [original.guid, copy.guid];
}

/** SIGKILLs the tenant's runtime process and waits until its supervisor has it answering again. */
async function restartTenantRuntime(platform: LocalPlatform, story: StoryMoment): Promise<{ before: number; after: number }> {
  const cp = platform.controlPlane;
  if (!cp) throw new Error('the local platform runs no control plane');
  const record = await cp.registry.require(story.tenantId);
  const name = tenantResourceNames(story.tenantId, record.creationId).functionApp;
  const before = cp.manager.resources.getFunctionRuntime(name)?.pid;
  if (!before) throw new Error('the tenant runtime has no process');
  process.kill(before, 'SIGKILL');
  const base = story.messagesUrl.replace(/\/api\/messages$/, '');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const after = cp.manager.resources.getFunctionRuntime(name)?.pid;
    const healthy = after && after !== before ? await fetch(`${base}/api/health`).then((r) => r.ok, () => false) : false;
    if (healthy && after) return { before, after };
    if (Date.now() > deadline) throw new Error('the tenant runtime did not come back');
    await sleep(100);
  }
}

describe('the npm start story, end to end', function () {
  this.timeout(420_000);
  let platform: LocalPlatform;
  const logger = memoryLogger('info');
  before(async () => {
    platform = await startLocalPlatform({ env: { ZEKT_PORT: '0', ZEKT_RESOURCE_MANAGER_PORT: '0' }, inMemory: true, log: logger.log });
  });
  after(() => platform?.stop());
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const l of logger.lines.filter((x) => Number(x.level) >= 40).slice(-15)) console.log(JSON.stringify(l).slice(0, 1500));
  });

  it('walks one customer from sign-in to the settled report: message posted, dispatched, fetched, linked, reported — through a thrice-sent webhook and a runtime restart', async () => {
    const double = platform.githubDouble;
    if (!double) throw new Error('the local platform runs with the GitHub double');
    const lines: string[] = [];
    let guids: string[] = [];
    let restarted: { before: number; after: number } | undefined;
    const result = await runDemoStory({
      platformUrl: platform.platformUrl,
      doubleControlUrl: double.controlUrl,
      say: (line) => lines.push(line),
      between: {
        // The same completed run reaches Zekt three times, while the first copy is handled.
        providerCompleted: async (story) => {
          guids = await repeatCompleted(double, story.providerRunId);
        },
        // Once the dispatch is recorded, the tenant runtime dies and comes back: what is left
        // (the consumer's fetch and receipt, its run's webhooks, settlement, the report) runs on the new process.
        dispatched: async (story) => {
          for (let i = 0; ; i++) {
            const { body } = await story.json<{ deliveries?: { status?: string }[] }>(`/api/tenant/events/${story.eventId}`);
            if (body.deliveries?.length && body.deliveries.every((d) => d.status === 'dispatched')) break;
            if (i > 200) throw new Error('the delivery was never recorded dispatched');
            await sleep(100);
          }
          restarted = await restartTenantRuntime(platform, story);
        },
      },
    });
    expect(restarted?.after, 'a new tenant runtime process').to.be.a('number').and.not.equal(restarted?.before);

    // Every step was told, in order.
    const told = lines.join('\n');
    for (const step of ['signs in', 'signs up', 'is ready', 'installed', 'subscribed', 'posts a message', 'completes', 'dispatched to mona/deploy', 'fetches the message', 'delivery linked', 'settled report']) {
      expect(told, step).to.include(step);
    }
    // The consumer got the event by repository_dispatch: metadata and a message reference, never the body.
    const [dispatch, ...more] = double.dispatches.filter((d) => d.repository === 'mona/deploy');
    expect(more, 'one dispatch per consumer, however often the run completed').to.deep.equal([]);
    // GitHub's own record: three deliveries of that completed run, each accepted by the ingress.
    const control = await fetch(`${double.controlUrl}/deliveries?event=workflow_run`).then((r) => r.json() as Promise<{ guid: string; action: string; statusCode: number; redelivery: boolean }[]>);
    const sent = control.filter((d) => guids.includes(d.guid) && d.action === 'completed');
    expect(sent.map((d) => d.redelivery).sort()).to.deep.equal([false, false, true]);
    expect(sent.every((d) => d.statusCode >= 200 && d.statusCode < 300), JSON.stringify(sent)).to.equal(true);
    const viaApi = await fetch(`${double.controlUrl}/dispatches?repository=mona/deploy`).then((r) => r.json() as Promise<unknown[]>);
    expect(viaApi, 'GET /_double/dispatches').to.have.length(1);
    const payload = dispatch?.clientPayload as { zekt: { event_id: string }; provider: { repository: string }; run: { conclusion: string }; messages: { sha256: string }[] };
    expect(payload.zekt.event_id).to.equal(result.eventId);
    expect(payload.provider.repository).to.equal('mona/build');
    expect(payload.run.conclusion).to.equal('success');
    expect(payload.messages).to.have.length(1);
    expect(JSON.stringify(payload)).not.to.include(demoMessage.artifact);
    // The consumer run fetched the provider's message through its own OIDC token.
    expect(JSON.parse(result.message)).to.deep.equal(demoMessage);
    // The provider heard back once, with the consumer's conclusion.
    expect(double.dispatches.filter((d) => d.repository === 'mona/build')).to.have.length(1);
    expect(result.settled).to.deep.equal([{ ...result.settled[0], repository: 'mona/deploy', status: 'completed', conclusion: 'success' }]);
    expect(double.schemaErrors).to.deep.equal([]);
  });
});
