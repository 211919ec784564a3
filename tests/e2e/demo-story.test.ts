/**
 * The story `npm start` tells on a first start, run as it runs there: the real local platform
 * (Azurite, the GitHub double, the control plane provisioning a tenant compartment with its own
 * runtime process), driven only over HTTP — the console's API, the double's control API, and the
 * bundled Zekt Action run as a runner runs it.
 */
import { expect } from 'chai';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { demoMessage, runDemoStory } from '../../local/demo/demo-story.ts';
import { memoryLogger } from '../support/logs.ts';

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

  it('walks one customer from sign-in to the settled report: message posted, dispatched, fetched, linked, reported', async () => {
    const double = platform.githubDouble;
    if (!double) throw new Error('the local platform runs with the GitHub double');
    const lines: string[] = [];
    const result = await runDemoStory({ platformUrl: platform.platformUrl, doubleControlUrl: double.controlUrl, say: (line) => lines.push(line) });

    // Every step was told, in order.
    const told = lines.join('\n');
    for (const step of ['signs in', 'signs up', 'is ready', 'installed', 'subscribed', 'posts a message', 'completes', 'dispatched to mona/deploy', 'fetches the message', 'delivery linked', 'settled report']) {
      expect(told, step).to.include(step);
    }
    // The consumer got the event by repository_dispatch: metadata and a message reference, never the body.
    const [dispatch, ...more] = double.dispatches.filter((d) => d.repository === 'mona/deploy');
    expect(more, 'one dispatch per consumer').to.deep.equal([]);
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
