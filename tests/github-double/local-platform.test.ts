import { expect } from 'chai';
import { startLocalPlatform } from '../../local/start-local-platform.ts';
import { defaultWorld } from '../../local/github-double/seed-default-world.ts';
import { apiRequest, appAuth } from './support.ts';

describe('GitHub double in the local platform (npm start)', () => {
  it('starts with the default world and points the platform at it', async () => {
    const platform = await startLocalPlatform({ env: { ZEKT_PORT: '0', ZEKT_LOG_LEVEL: 'silent' }, inMemory: true });
    try {
      const double = platform.githubDouble;
      expect(double, 'the double runs when no GITHUB_API_URL is set').to.exist;
      if (!double) return;
      const installations = await apiRequest(double)('GET /app/installations', {
        headers: { authorization: `bearer ${(await appAuth(double)({ type: 'app' })).token}` },
      });
      expect(installations.data.map((i) => i.account && 'login' in i.account ? i.account.login : undefined)).to.deep.equal([defaultWorld.organization]);
      // GitHub delivers the App's webhooks to the platform's ingress route.
      const delivery = await double.sendWebhook(double.payloads.ping());
      expect(delivery.url).to.equal(`${platform.platformUrl}/api/github/webhooks`);
      expect(delivery.status).to.not.equal('failed to connect');
      // The control API drives the world; a run's webhooks reach the platform's ingress, which accepts them.
      const run = await fetch(`${double.controlUrl}/repos/${defaultWorld.organization}/${defaultWorld.provider}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workflow: 'ci.yml', name: 'CI' }),
      });
      expect(run.status).to.equal(201);
      const sent = double.deliveries.slice(-4);
      expect(sent.map((d) => `${d.event}.${d.action}`)).to.deep.equal(['workflow_run.requested', 'workflow_job.queued', 'workflow_run.in_progress', 'workflow_job.in_progress']);
      expect(sent.map((d) => d.statusCode)).to.deep.equal([202, 202, 202, 202]);
    } finally {
      await platform.stop();
    }
  });

  it('stays out of the way when a real GitHub is configured', async () => {
    const platform = await startLocalPlatform({
      env: { ZEKT_PORT: '0', ZEKT_LOG_LEVEL: 'silent', GITHUB_API_URL: 'https://github.example.com/api/v3' },
      inMemory: true,
    });
    try {
      expect(platform.githubDouble).to.equal(undefined);
    } finally {
      await platform.stop();
    }
  });
});
