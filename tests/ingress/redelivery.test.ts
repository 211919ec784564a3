import { expect } from 'chai';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { createAppRequest } from '../../runtime/github/create-app-request.ts';
import { platformSecretNames } from '../../runtime/core/secret-store.ts';
import { redeliverFailedDeliveries } from '../../runtime/ingress/redeliver-failed-deliveries.ts';
import { memoryLogger } from '../support/logs.ts';
import { startIngressHarness, type IngressHarness } from './support.ts';

describe("ingress: asking GitHub to redeliver what it failed to deliver", () => {
  let double: GitHubDouble;
  let h: IngressHarness;
  before(async () => {
    double = await startGitHubDouble();
    h = await startIngressHarness({}, { router: false });
    h.secrets.set(platformSecretNames.webhookSecret, double.app.webhookSecret);
  });
  after(async () => {
    await h.close();
    await double.close();
  });

  it('requests redelivery of failed deliveries only, bounded per run, until none is left', async () => {
    const installation = double.addInstallation({ account: 'acme', repositories: ['provider'] });
    // GitHub cannot reach Zekt for a while: three deliveries fail.
    double.setWebhookUrl('http://127.0.0.1:9/unreachable');
    const failed = [];
    for (let run = 1; run <= 3; run++) {
      failed.push(await double.sendWebhook(double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 100 + run, installationId: installation.id })));
    }
    // One of them reached Zekt another way (stored already): it must not be asked for again.
    double.setWebhookUrl(h.url);
    const ok = await double.sendWebhook(double.payloads.workflowRun({ action: 'completed', repository: 'acme/provider', runId: 200, installationId: installation.id }));
    expect(ok.statusCode).to.equal(202);
    const { request } = createAppRequest({ appId: double.app.id, privateKey: double.app.privateKey, apiUrl: double.apiUrl });
    const options = { request, deliveries: h.ingress.deliveries, stateTable: h.storage.table('deliveries'), maxPerRun: 2, log: memoryLogger().log };

    const first = await redeliverFailedDeliveries(options);
    await double.settled();
    expect(first.requested).to.deep.equal(failed.slice(0, 2).map((d) => d.guid));
    const second = await redeliverFailedDeliveries(options);
    await double.settled();
    expect(second.requested).to.deep.equal([failed[2]?.guid]);
    const third = await redeliverFailedDeliveries(options);
    expect(third.requested).to.deep.equal([]);

    for (const d of failed) expect((await h.ingress.deliveries.get(d.guid)).deliveryId).to.equal(d.guid);
    expect(double.schemaErrors).to.deep.equal([]);
  });
});
