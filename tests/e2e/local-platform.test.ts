/**
 * Zekt end to end on the local platform (what `npm start` runs): sign in through GitHub's OAuth
 * flow (the GitHub API double), sign up, watch the control plane provision the tenant's own
 * compartment to `ready`, install the App and bind the installation through the setup URL, see
 * a workflow_run delivered to the tenant's own runtime, and have the tenant's identity get a
 * down-scoped installation token from the broker.
 */
import { expect } from 'chai';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { createLocalIdentityCredential } from '../../runtime/core/local-identity.ts';
import { createBrokerClient } from '../../runtime/tenant/broker-client.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { request as octokitRequest } from '@octokit/request';
import { Browser } from '../identity/support.ts';
import { memoryLogger } from '../support/logs.ts';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('end to end on the local platform', function () {
  this.timeout(180_000);
  let platform: LocalPlatform;
  const logger = memoryLogger('info');
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const l of logger.lines.filter((x) => Number(x.level) >= 40).slice(-10)) console.log(JSON.stringify(l).slice(0, 1500));
  });
  before(async () => {
    platform = await startLocalPlatform({ env: { ZEKT_PORT: '0', ZEKT_RESOURCE_MANAGER_PORT: '0' }, inMemory: true, log: logger.log });
  });
  after(() => platform?.stop());

  it('signs in, provisions, binds an installation, routes a delivery and brokers a token', async () => {
    const double = platform.githubDouble;
    if (!double) throw new Error('the local platform runs with the GitHub API double');
    double.addUser({ login: 'alice' });
    double.signInAs('alice');
    const browser = new Browser(platform);
    expect((await browser.signIn()).status).to.equal(200);

    expect((await browser.post('/api/signup')).status).to.equal(202);
    const statuses = new Set<string>();
    const ready = await until('the tenant to be ready', async () => {
      const me = (await (await browser.fetch(`${platform.platformUrl}/api/tenants/me`)).json()) as { status: string; endpoints?: { webhookUrl: string; messagesUrl: string; oidcAudience: string } };
      statuses.add(me.status);
      return me.status === 'ready' ? me : undefined;
    });
    expect([...statuses].filter((s) => s !== 'ready')).to.satisfy((seen: string[]) => seen.every((s) => ['requested', 'provisioning'].includes(s)));
    expect(ready.endpoints?.webhookUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/webhooks$/);
    // What alice puts in the Zekt Action's `endpoint` and `audience` inputs.
    expect(ready.endpoints?.messagesUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/messages$/);
    expect(ready.endpoints?.oidcAudience).to.equal('zekt:alice');

    // The App is installed on alice's account; GitHub sends a run before alice finishes the setup.
    const installation = double.addInstallation({
      account: 'alice',
      accountType: 'User',
      repositories: ['provider', 'consumer'],
      permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' },
      singleFilePaths: ['.github/zekt.yml'],
    });
    const run = await double.sendWebhook(double.payloads.workflowRun({ action: 'completed', repository: 'alice/provider', runId: 4711 }));
    expect(run.statusCode).to.equal(202);
    const deliveries = platform.parts?.ingress.deliveries;
    if (!deliveries) throw new Error('the platform has its ingress');
    await until('the delivery to be parked', async () => ((await deliveries.get(run.guid)).status === 'parked' ? true : undefined));

    const setup = await browser.fetch(`${platform.platformUrl}/api/github/setup?installation_id=${installation.id}&setup_action=install`);
    expect(setup.status).to.equal(200);
    const delivered = await until('the delivery to reach the tenant runtime', async () => {
      const record = await deliveries.get(run.guid);
      return record.status === 'delivered' ? record : undefined;
    });
    expect(delivered.tenantId).to.equal('alice');

    // The tenant runtime's own identity asks the broker for a token to dispatch to the consumer.
    const tenant = await platform.controlPlane?.registry.require('alice');
    const identity = platform.controlPlane?.manager.resources.getIdentity(tenantResourceNames('alice', tenant?.creationId as string).identity);
    if (!identity) throw new Error('the tenant has its identity');
    const broker = createBrokerClient({
      brokerUrl: platform.platformUrl,
      credential: createLocalIdentityCredential({ clientId: identity.clientId, secret: identity.clientSecret }),
      audience: 'api://zekt-broker',
    });
    const [providerId, consumerId] = [...installation.repositoryIds] as [number, number];
    const granted = await broker.installationToken({ purpose: 'dispatch', repositoryId: consumerId });
    expect(granted.repositoryIds).to.deep.equal([consumerId]);
    await octokitRequest('POST /repos/{owner}/{repo}/dispatches', {
      baseUrl: double.apiUrl,
      headers: { authorization: `token ${granted.token}` },
      owner: 'alice',
      repo: 'consumer',
      event_type: 'zekt.workflow_run.completed',
    });
    expect(double.dispatches.map((d) => d.repository)).to.deep.equal(['alice/consumer']);
    let refused = 0;
    await broker.installationToken({ purpose: 'administer', repositoryId: providerId } as never).catch((e: { status: number }) => (refused = e.status));
    expect(refused).to.equal(400);
    expect(double.schemaErrors).to.deep.equal([]);
  });
});
