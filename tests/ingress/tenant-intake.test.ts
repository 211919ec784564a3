import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import azureFunctions from '@azure/functions';
import { signForward, type ForwardedDelivery } from '../../runtime/ingress/forward-to-tenant.ts';
import { createTenantWebhookHandler } from '../../runtime/tenant/receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from '../../runtime/tenant/workflow-event-store.ts';
import { workflowRunPayload } from '../fixtures/index.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';
import { forwardSecret } from './support.ts';

const { HttpRequest, InvocationContext } = azureFunctions;

/** A builder for one valid forwarded delivery; each test breaks one part. */
function forwarded(tenantId: string, payload: unknown, overrides: Partial<ForwardedDelivery> = {}): ForwardedDelivery {
  return { id: randomUUID(), event: 'workflow_run', action: 'completed', installationId: 4242, tenantId, receivedAt: new Date().toISOString(), payload, ...overrides };
}

describe('tenant intake: Standard Webhooks from the ingress', () => {
  const secret = forwardSecret();
  let handler: ReturnType<typeof createTenantWebhookHandler>;
  let events: ReturnType<typeof createWorkflowEventStore>;
  let secrets: { current: string; previous?: string } = { current: secret };

  before(async () => {
    const storage = await sharedStorage();
    const eventsTable = storage.table(uniqueName('events'));
    const seen = storage.table(uniqueName('seen'));
    await Promise.all([eventsTable.createTable(), seen.createTable()]);
    events = createWorkflowEventStore(eventsTable);
    handler = createTenantWebhookHandler({ tenantId: 'acme', secrets: async () => secrets, events, seen, maxBodyBytes: 1024 * 1024, log: memoryLogger().log });
  });

  async function post(body: string, headers: Record<string, string>) {
    const request = new HttpRequest({ method: 'POST', url: 'http://tenant/api/webhooks', headers: { 'content-type': 'application/json', ...headers }, body: { string: body } });
    const response = await handler(request, new InvocationContext({ functionName: 'webhooks' }));
    return response.status ?? 200;
  }

  it('accepts a forward signed by the ingress and keeps the run', async () => {
    const delivery = forwarded('acme', workflowRunPayload({ runId: 11, repositoryId: 7, repository: 'acme/web' }));
    const body = JSON.stringify(delivery);
    expect(await post(body, signForward(delivery.id, body, { current: secret }, new Date()))).to.equal(200);
    expect(await events.getRun(7, 11)).to.include({ status: 'completed', deliveryId: delivery.id });
  });

  it('refuses a stale timestamp (a captured request replayed later) with 401', async () => {
    const delivery = forwarded('acme', workflowRunPayload());
    const body = JSON.stringify(delivery);
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000);
    expect(await post(body, signForward(delivery.id, body, { current: secret }, sixMinutesAgo))).to.equal(401);
  });

  it('refuses a body changed after signing, another secret, and missing headers', async () => {
    const delivery = forwarded('acme', workflowRunPayload());
    const body = JSON.stringify(delivery);
    const headers = signForward(delivery.id, body, { current: secret }, new Date());
    expect(await post(body.replace('completed', 'cancelled'), headers)).to.equal(401);
    expect(await post(body, signForward(delivery.id, body, { current: forwardSecret() }, new Date()))).to.equal(401);
    const { 'webhook-signature': _s, ...unsigned } = headers;
    expect(await post(body, unsigned)).to.equal(400);
  });

  it('processes a replayed webhook-id once: the repeat is a 200 that changes nothing', async () => {
    const delivery = forwarded('acme', workflowRunPayload({ runId: 12, repositoryId: 7, status: 'in_progress', updatedAt: '2026-01-01T00:00:00Z' }));
    const body = JSON.stringify(delivery);
    expect(await post(body, signForward(delivery.id, body, { current: secret }, new Date()))).to.equal(200);
    // A newer state arrives, then the first forward is replayed: the run must not step back.
    const newer = forwarded('acme', workflowRunPayload({ runId: 12, repositoryId: 7, status: 'completed', updatedAt: '2026-01-01T00:05:00Z' }));
    const newerBody = JSON.stringify(newer);
    expect(await post(newerBody, signForward(newer.id, newerBody, { current: secret }, new Date()))).to.equal(200);
    expect(await post(body, signForward(delivery.id, body, { current: secret }, new Date()))).to.equal(200);
    expect((await events.getRun(7, 12))?.status).to.equal('completed');
  });

  it('keeps runs monotonic when events arrive out of order', async () => {
    const completed = forwarded('acme', workflowRunPayload({ runId: 13, repositoryId: 7, status: 'completed', updatedAt: '2026-01-01T00:05:00Z' }));
    const requested = forwarded('acme', workflowRunPayload({ runId: 13, repositoryId: 7, status: 'requested', updatedAt: '2026-01-01T00:00:00Z' }));
    for (const d of [completed, requested]) {
      const body = JSON.stringify(d);
      expect(await post(body, signForward(d.id, body, { current: secret }, new Date()))).to.equal(200);
    }
    expect((await events.getRun(7, 13))?.status).to.equal('completed');
    const rerun = forwarded('acme', workflowRunPayload({ runId: 13, repositoryId: 7, runAttempt: 2, status: 'requested', updatedAt: '2026-01-01T01:00:00Z' }));
    const body = JSON.stringify(rerun);
    expect(await post(body, signForward(rerun.id, body, { current: secret }, new Date()))).to.equal(200);
    expect(await events.getRun(7, 13)).to.include({ status: 'requested', runAttempt: 2 });
  });

  it("refuses a delivery addressed to another tenant even when signed with this tenant's secret", async () => {
    const delivery = forwarded('globex', workflowRunPayload());
    const body = JSON.stringify(delivery);
    expect(await post(body, signForward(delivery.id, body, { current: secret }, new Date()))).to.equal(400);
  });

  it('accepts either signature while the tenant rotates its secret', async () => {
    const next = forwardSecret();
    secrets = { current: next, previous: secret };
    try {
      const delivery = forwarded('acme', workflowRunPayload());
      const body = JSON.stringify(delivery);
      expect(await post(body, signForward(delivery.id, body, { current: secret }, new Date()))).to.equal(200);
    } finally {
      secrets = { current: secret };
    }
  });
});
