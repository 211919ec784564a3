/**
 * The settled report: when every delivery of an event has ended (completed, unconfirmed, dead),
 * a provider that opted in receives one `repository_dispatch` back listing each consumer — through
 * the whole path (the double's webhooks, the ingress, the tenant runtime, the broker, the double's
 * dispatches endpoint). Once, however often the last transition is seen; again after a redelivery.
 */
import { expect } from 'chai';
import { startDispatchWorld, until, type DispatchWorld, type TenantUnderTest } from './support.ts';
import { createSubscriptionIndex } from '../../runtime/tenant/subscriptions/subscription-index.ts';
import type { DeliveryRecord } from '../../runtime/tenant/dispatch/delivery-record.ts';

type Ref = { id: number; fullName: string };
type Report = {
  zekt: { kind: string; event_id: string; report_id: string; sequence: number; settled_at: string };
  provider: { repository: string };
  run: { id: number; conclusion: string };
  summary: { deliveries: number; completed: number; unconfirmed: number; dead: number; conclusions: Record<string, number> };
  consumers: { repository: string; status: string; conclusion: string | null; run_id: number | null; run_url: string | null; error: string | null }[];
};

describe('orchestration: the settled report', function () {
  this.timeout(90_000);
  let world: DispatchWorld;
  let tenant: TenantUnderTest;
  let repos: Record<string, Ref>;

  before(async () => {
    world = await startDispatchWorld();
    tenant = await world.addTenant('acme', { orchestration: { config: { confirmAfterSeconds: 1 }, staleMs: 0 } });
    repos = await world.install('acme', 'acme', ['build', 'lib', 'deploy', 'docs', 'site']);
    const index = createSubscriptionIndex(tenant.storage.table('subscriptions'));
    await index.setPublishPolicy({ provider: repos.build as Ref, consumers: 'all', settledReport: true });
    await index.setPublishPolicy({ provider: repos.lib as Ref, consumers: 'all', settledReport: false });
    for (const consumer of ['deploy', 'docs', 'site']) {
      await tenant.subscribe(repos[consumer] as Ref, [
        { provider: repos.build as Ref, conclusions: ['success'] },
        { provider: repos.lib as Ref, conclusions: ['success'] },
      ]);
    }
  });
  after(() => world?.close());

  const eventOf = (provider: string, runId: number) => `${repos[provider]?.id}-${runId}-1`;
  const deliveryOf = (provider: string, runId: number, consumer: string) => `${eventOf(provider, runId)}.${repos[consumer]?.id}`;
  const reportsTo = (repository: string) => world.double.dispatches.filter((d) => d.repository === repository && d.eventType === 'zekt.settled');
  const record = (id: string) => tenant.orchestration.deliveries.read(id).then((s) => s?.record);
  const becomes = (id: string, status: DeliveryRecord['status']) =>
    until(`${id} to be ${status}`, async () => {
      const r = await record(id);
      return r?.status === status ? r : undefined;
    });
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${tenant.url}/api/${path}`, { ...init, headers: { authorization: `Bearer ${await tenant.credential()}`, 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** The consumer workflow's run, named after the correlation id (`run-name`), started and completed. */
  const consumerRun = async (consumer: string, runId: number, correlationId: string, conclusion: 'success' | 'failure') => {
    const run = { repository: `acme/${consumer}`, runId, event: 'repository_dispatch', displayTitle: correlationId, workflowName: 'Deploy' };
    await world.run({ ...run, action: 'in_progress' });
    await world.run({ ...run, action: 'completed', conclusion });
  };

  it('reports once to the provider: one consumer completed, one failed, one unconfirmed', async () => {
    await world.run({ action: 'completed', repository: 'acme/build', runId: 501 });
    const deploy = await becomes(deliveryOf('build', 501, 'deploy'), 'dispatched');
    const docs = await becomes(deliveryOf('build', 501, 'docs'), 'dispatched');
    await becomes(deliveryOf('build', 501, 'site'), 'dispatched');
    await consumerRun('deploy', 9101, deploy.correlationId, 'success');
    await consumerRun('docs', 9102, docs.correlationId, 'failure');
    await becomes(deploy.id, 'completed');
    await becomes(docs.id, 'completed');
    expect(reportsTo('acme/build'), 'no report while site is still waiting').to.have.length(0);
    expect((await tenant.orchestration.events.get(eventOf('build', 501)))?.settledAt).to.equal(undefined);

    // site has no workflow listening: after the confirmation time the sweeper marks it unconfirmed.
    await new Promise((r) => setTimeout(r, 1100));
    await tenant.orchestration.sweep();
    const [sent] = await until('the settled report', () => (reportsTo('acme/build').length ? reportsTo('acme/build') : undefined));
    const payload = sent?.clientPayload as Report;
    expect(Object.keys(payload)).to.have.length.at.most(10);
    expect(Buffer.byteLength(JSON.stringify(payload))).to.be.below(64 * 1024);
    expect(payload.zekt).to.include({ kind: 'settled', event_id: eventOf('build', 501), report_id: `zekt-settled.${eventOf('build', 501)}.3`, sequence: 3 });
    expect(payload.provider.repository).to.equal('acme/build');
    expect(payload.run).to.include({ id: 501, conclusion: 'success' });
    expect(payload.summary).to.deep.equal({ sequence: 3, deliveries: 3, completed: 2, unconfirmed: 1, dead: 0, conclusions: { success: 1, failure: 1 } });
    expect(payload.consumers.map((c) => [c.repository, c.status, c.conclusion, c.run_id])).to.deep.equal([
      ['acme/deploy', 'completed', 'success', 9101],
      ['acme/docs', 'completed', 'failure', 9102],
      ['acme/site', 'unconfirmed', null, null],
    ]);
    expect(payload.consumers[0]?.run_url).to.match(/\/acme\/deploy\/actions\/runs\/9101$/);
    // The report went with a token for the provider repository only.
    expect(sent?.token).to.not.equal(world.double.dispatches.find((d) => d.repository === 'acme/deploy')?.token);

    const shown = await api(`events/${eventOf('build', 501)}`);
    expect(shown.status).to.equal(200);
    const event = shown.body.event as { settled_at: string | null; summary: { completed: number } };
    expect(event.settled_at).to.be.a('string');
    expect(event.summary.completed).to.equal(2);
    expect((shown.body.settled_reports as { status: string; event_type: string }[]).map((r) => [r.event_type, r.status])).to.deep.equal([['zekt.settled', 'dispatched']]);
  });

  it('sends one report when the last transition is seen twice, by two runtime instances at once', async () => {
    const second = await tenant.addInstance();
    await world.run({ action: 'completed', repository: 'acme/build', runId: 502 });
    const ids = ['deploy', 'docs', 'site'].map((c) => deliveryOf('build', 502, c));
    const records = await Promise.all(ids.map((id) => becomes(id, 'dispatched')));
    await consumerRun('deploy', 9201, records[0]?.correlationId as string, 'success');
    await consumerRun('docs', 9202, records[1]?.correlationId as string, 'success');
    await becomes(ids[1] as string, 'completed');
    // site's run completes, and its completion reaches both instances at the same moment.
    const link = { deliveryId: ids[2] as string, consumerRepositoryId: repos.site?.id as number, consumerRunId: 9203, attempt: 1, status: 'completed', conclusion: 'success' };
    await Promise.all([tenant.orchestration.linkDelivery(link), second.orchestration.linkDelivery(link)]);
    await until('the settled report', () => (reportsTo('acme/build').length >= 2 ? true : undefined));
    // ... and once more later, plus the sweeper and direct checks: still one report for run 502.
    await tenant.orchestration.linkDelivery(link);
    await Promise.all([tenant.orchestration.settlement.check(eventOf('build', 502)), second.orchestration.settlement.check(eventOf('build', 502))]);
    await tenant.orchestration.sweep();
    await new Promise((r) => setTimeout(r, 1000));
    await tenant.drain();
    const of502 = reportsTo('acme/build').filter((d) => (d.clientPayload as Report).run.id === 502);
    expect(of502).to.have.length(1);
    expect((of502[0]?.clientPayload as Report).summary).to.include({ completed: 3, unconfirmed: 0 });
  });

  it('sends none to a provider that did not opt in, and still records the settlement', async () => {
    await world.run({ action: 'completed', repository: 'acme/lib', runId: 601 });
    for (const c of ['deploy', 'docs', 'site']) {
      const r = await becomes(deliveryOf('lib', 601, c), 'dispatched');
      await tenant.orchestration.linkDelivery({ deliveryId: r.id, consumerRepositoryId: repos[c]?.id as number, consumerRunId: 9300 + r.consumer.id % 100, attempt: 1, status: 'completed', conclusion: 'success' });
    }
    const event = await until('the lib event settled', async () => {
      const e = await tenant.orchestration.events.get(eventOf('lib', 601));
      return e?.settledAt ? e : undefined;
    });
    expect(event.summary).to.include({ deliveries: 3, completed: 3 });
    await tenant.orchestration.sweep();
    await new Promise((r) => setTimeout(r, 500));
    await tenant.drain();
    expect(reportsTo('acme/lib')).to.have.length(0);
    expect(await tenant.orchestration.reports.ofEvent(eventOf('lib', 601))).to.have.length(0);
  });

  it('settles an event on the open list as earlier versions kept it, and takes it off', async () => {
    // A new event is on the open list in its own partition, written with it.
    const table = tenant.storage.table('events');
    await world.run({ action: 'completed', repository: 'acme/lib', runId: 602 });
    await until('its open row', () => table.getEntity('event', `open.${eventOf('lib', 602)}`).then(() => true, () => undefined));
    // An event settled meanwhile, still on the open list where an earlier version put it (the `open` partition).
    await table.upsertEntity({ partitionKey: 'open', rowKey: eventOf('lib', 601), checkedAt: 0, sequence: 3 }, 'Merge');
    await tenant.orchestration.sweep();
    const left: string[] = [];
    for await (const row of table.listEntities({ queryOptions: { filter: `PartitionKey eq 'open'` } })) left.push(String(row.rowKey));
    expect(left).to.deep.equal([]);
    expect((await tenant.orchestration.events.get(eventOf('lib', 601)))?.settledAt).to.be.a('string');
    expect(reportsTo('acme/lib')).to.have.length(0);
  });

  it('reopens the event on a redelivery and reports its next settlement as a second report', async () => {
    const id = deliveryOf('build', 501, 'docs');
    const before = reportsTo('acme/build').filter((d) => (d.clientPayload as Report).run.id === 501);
    expect(before).to.have.length(1);
    const redelivered = await api(`deliveries/${id}/redeliver`, { method: 'POST' });
    expect(redelivered.status).to.equal(202);
    const reopened = await tenant.orchestration.events.get(eventOf('build', 501));
    expect(reopened?.settledAt, 'open again').to.equal(undefined);
    expect(reopened?.settlementSequence).to.equal(4);
    const again = await becomes(id, 'dispatched');
    expect(again.generation).to.equal(2);
    await consumerRun('docs', 9104, again.correlationId, 'success');
    const reports = await until('a second report', () => {
      const of501 = reportsTo('acme/build').filter((d) => (d.clientPayload as Report).run.id === 501);
      return of501.length >= 2 ? of501 : undefined;
    });
    const second = reports[1]?.clientPayload as Report;
    expect(second.zekt).to.include({ sequence: 4, report_id: `zekt-settled.${eventOf('build', 501)}.4` });
    expect(second.consumers.find((c) => c.repository === 'acme/docs')).to.include({ status: 'completed', conclusion: 'success', run_id: 9104 });
    expect(second.summary.conclusions).to.deep.equal({ success: 2 });
  });

  it("makes no event of the provider's run that a settled report started (no report of a report)", async () => {
    const reportId = `zekt-settled.${eventOf('build', 501)}.3`;
    const count = world.double.dispatches.length;
    await world.run({ action: 'completed', repository: 'acme/build', runId: 701, event: 'repository_dispatch', displayTitle: `Fan-in ${reportId}` });
    await new Promise((r) => setTimeout(r, 1500));
    await tenant.drain();
    expect(await tenant.orchestration.events.get(eventOf('build', 701))).to.equal(undefined);
    expect(world.double.dispatches.length).to.equal(count);
  });
});
