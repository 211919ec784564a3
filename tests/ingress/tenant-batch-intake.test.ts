/**
 * The tenant's batch door (`POST /api/webhooks/batch`): several forwarded deliveries in one signed
 * request, each accepted as a single forward would be and answered in `results`, in order; a
 * batch that does not verify or does not hold together is refused whole and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import azureFunctions from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import { batchBody, forwardBody, signForward, type ForwardedDelivery } from '../../runtime/ingress/forward-to-tenant.ts';
import { createTenantWebhookHandlers, maxDeliveriesPerBatch } from '../../runtime/tenant/receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from '../../runtime/tenant/workflow-event-store.ts';
import { workflowRunPayload } from '../fixtures/index.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';
import { requestsDuring } from '../support/requests-during.ts';
import { forwardSecret } from './support.ts';

const { HttpRequest, InvocationContext } = azureFunctions;

let nextRun = 100;
function forwarded(tenantId: string, overrides: Partial<ForwardedDelivery> = {}): ForwardedDelivery {
  const payload = workflowRunPayload({ runId: nextRun++, repositoryId: 9, repository: 'acme/web' });
  return { id: randomUUID(), event: 'workflow_run', action: 'completed', installationId: 4242, tenantId, receivedAt: new Date().toISOString(), payload, ...overrides };
}

interface Answer {
  status: number;
  results?: { id: string; status: number; outcome?: string; duplicate?: boolean; error?: string }[];
}

describe('tenant intake: a batch of forwarded deliveries', () => {
  const secret = forwardSecret();
  let intake: ReturnType<typeof createTenantWebhookHandlers>;
  let events: ReturnType<typeof createWorkflowEventStore>;
  let seen: TableClient;
  /** Deliveries whose processing fails (the events store refuses them), by id. */
  const failing = new Set<string>();

  before(async () => {
    const storage = await sharedStorage();
    const eventsTable = storage.table(uniqueName('events'));
    seen = storage.table(uniqueName('seen'));
    await Promise.all([eventsTable.createTable(), seen.createTable()]);
    events = createWorkflowEventStore(eventsTable);
    const onDelivery = async (d: ForwardedDelivery) => {
      if (failing.has(d.id)) throw new Error('storage refused the write');
    };
    intake = createTenantWebhookHandlers({ tenantId: 'acme', secrets: async () => ({ current: secret }), events, seen, maxBodyBytes: 1024 * 1024, log: memoryLogger().log, onDelivery });
  });

  async function postBatch(body: string, headers: Record<string, string> = signForward(`batch_${randomUUID()}`, body, { current: secret }, new Date())): Promise<Answer> {
    const request = new HttpRequest({ method: 'POST', url: 'http://tenant/api/webhooks/batch', headers: { 'content-type': 'application/json', ...headers }, body: { string: body } });
    const response = await intake.batch(request, new InvocationContext({ functionName: 'webhookBatches', logHandler: () => undefined }));
    return { status: response.status ?? 200, ...((response as { jsonBody?: object }).jsonBody ?? {}) };
  }
  const bodyOf = (deliveries: readonly ForwardedDelivery[], tenantId = 'acme') => batchBody(tenantId, deliveries.map(forwardBody));
  const runOf = (d: ForwardedDelivery) => events.getRun(9, (d.payload as { workflow_run: { id: number } }).workflow_run.id);
  const seenRow = (id: string) => seen.getEntity('webhook', id).then(() => true, () => false);

  it('accepts each delivery of a batch as a single forward, answering each in order', async () => {
    const deliveries = [forwarded('acme'), forwarded('acme'), forwarded('acme')];
    const answer = await postBatch(bodyOf(deliveries));
    expect(answer.status).to.equal(200);
    expect(answer.results?.map((r) => [r.id, r.status, r.outcome])).to.deep.equal(deliveries.map((d) => [d.id, 200, 'stored']));
    for (const d of deliveries) expect(await runOf(d)).to.include({ status: 'completed', deliveryId: d.id });
  });

  it('writes the dedupe rows of a batch in one transaction, not one insert each', async () => {
    const deliveries = [forwarded('acme'), forwarded('acme'), forwarded('acme'), forwarded('acme')];
    const seenTable = seen.tableName;
    const requests = await requestsDuring(async () => void (await postBatch(bodyOf(deliveries))));
    // The dedupe rows: one transaction; the table's own path is never posted to for them.
    expect(requests.filter((r) => r.method === 'POST' && r.path.endsWith('/$batch')).length).to.equal(1);
    expect(requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${seenTable}`)).length).to.equal(0);
    for (const d of deliveries) expect(await seenRow(d.id)).to.equal(true);
  });

  it('answers a delivery it has processed already as a duplicate, and the new ones of the batch as accepted', async () => {
    const first = forwarded('acme');
    await postBatch(bodyOf([first, forwarded('acme')]));
    const fresh = forwarded('acme');
    const answer = await postBatch(bodyOf([first, fresh]));
    expect(answer.results?.map((r) => [r.id, r.status, r.duplicate ?? false])).to.deep.equal([
      [first.id, 200, true],
      [fresh.id, 200, false],
    ]);
  });

  it('answers a delivery whose processing failed with its own 500, and forgets it so that a retry is processed', async () => {
    const [ok, broken] = [forwarded('acme'), forwarded('acme')];
    failing.add(broken.id);
    const answer = await postBatch(bodyOf([ok, broken]));
    expect(answer.results?.map((r) => [r.id, r.status])).to.deep.equal([
      [ok.id, 200],
      [broken.id, 500],
    ]);
    expect(await seenRow(ok.id)).to.equal(true);
    expect(await seenRow(broken.id), 'dedupe row of the failed one').to.equal(false);
    failing.delete(broken.id);
    const retried = await postBatch(bodyOf([broken]));
    expect(retried.results?.map((r) => [r.id, r.status, r.duplicate ?? false])).to.deep.equal([[broken.id, 200, false]]);
  });

  it('refuses a batch that does not verify with 401, and processes none of it', async () => {
    const deliveries = [forwarded('acme'), forwarded('acme')];
    const body = bodyOf(deliveries);
    const headers = signForward('batch_x', body, { current: secret }, new Date());
    expect((await postBatch(body.replace('"completed"', '"cancelled"'), headers)).status, 'changed after signing').to.equal(401);
    expect((await postBatch(body, signForward('batch_x', body, { current: forwardSecret() }, new Date()))).status, 'another secret').to.equal(401);
    expect((await postBatch(body, signForward('batch_x', body, { current: secret }, new Date(Date.now() - 6 * 60_000)))).status, 'a stale timestamp').to.equal(401);
    for (const d of deliveries) expect(await seenRow(d.id)).to.equal(false);
  });

  it('refuses a batch that does not hold together with 400, and processes none of it', async () => {
    const one = forwarded('acme');
    const cases: [string, string][] = [
      ['another tenant', bodyOf([forwarded('globex')], 'globex')],
      ['a delivery of another tenant inside', bodyOf([one, forwarded('globex')])],
      ['no list', JSON.stringify({ tenantId: 'acme', deliveries: { id: one.id } })],
      ['an empty list', bodyOf([])],
      [`over ${maxDeliveriesPerBatch}`, bodyOf(Array.from({ length: maxDeliveriesPerBatch + 1 }, () => forwarded('acme', { payload: {} })))],
      ['a delivery twice', bodyOf([one, one])],
      ['an id that is no delivery id', bodyOf([one, forwarded('acme', { id: 'not/an id' })])],
      ['not JSON', 'deliveries: many'],
    ];
    for (const [what, body] of cases) expect((await postBatch(body)).status, what).to.equal(400);
    expect(await seenRow(one.id)).to.equal(false);
    expect(await runOf(one)).to.equal(undefined);
  });
});
