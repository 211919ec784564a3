/**
 * The router's forwards to one tenant: at most `forwardsPerTenant` requests open, and what waits
 * for one goes in the next together (up to `deliveriesPerForward`), through the tenant's batch
 * door. Each delivery of a batch ends as its own single forward would: delivered, retried or
 * dead-lettered on its own result; a tenant runtime without the batch door gets singles.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowJobPayload } from '../fixtures/index.ts';
import { deliveriesPerForward, forwardsPerTenant } from '../../runtime/ingress/route-delivery.ts';
import { startIngressHarness, type IngressHarness } from './support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the router's forwards went through: each request's URL, and how many were open at most. */
interface Transport {
  fetch: typeof fetch;
  requests: string[];
  mostOpen: number;
  /** Answers in the tenant's place (it never sees the request). */
  intercept?: (url: string) => Response | undefined;
  /** Rewrites the tenant's answer before the router sees it (a batch's body is JSON text). */
  rewrite?: (url: string, status: number, body: string) => { status: number; body: string } | undefined;
}

function transport(delayMs: number): Transport {
  let open = 0;
  const t: Transport = {
    requests: [],
    mostOpen: 0,
    fetch: async (input, init) => {
      const url = String(input);
      t.requests.push(url);
      open++;
      t.mostOpen = Math.max(t.mostOpen, open);
      try {
        // The tenant answering slower than deliveries come: the others wait for a request.
        await sleep(delayMs);
        const instead = t.intercept?.(url);
        if (instead) return instead;
        const res = await fetch(input, init);
        const changed = t.rewrite?.(url, res.status, await res.clone().text());
        return changed ? new Response(changed.body, { status: changed.status, headers: { 'content-type': 'application/json' } }) : res;
      } finally {
        open--;
      }
    },
  };
  return t;
}

describe('router: forwards to a tenant go together while it is busy', function () {
  this.timeout(60_000);
  let h: IngressHarness;
  let t: Transport;
  beforeEach(async () => {
    t = transport(50);
    h = await startIngressHarness({ forwardTimeoutMs: 10_000 }, { router: false, fetch: t.fetch });
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
  });
  afterEach(() => h?.close());

  async function stored(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    const statuses = await Promise.all(ids.map((id) => h.send('workflow_job', workflowJobPayload({ installationId: 4242 }), { deliveryId: id })));
    expect(statuses.map((s) => s.status)).to.deep.equal(ids.map(() => 202));
    return ids;
  }
  const records = (ids: readonly string[]) => Promise.all(ids.map((id) => h.ingress.deliveries.get(id)));

  it('40 deliveries at once: fewer requests than deliveries, at most the bounds, each delivered once', async () => {
    const tenant = await h.addTenant('acme');
    const ids = await stored(40);
    await h.ingress.router.handleAnnouncement({ deliveryIds: ids });

    expect((await records(ids)).map((r) => `${r.status} ${r.attempts}`)).to.deep.equal(ids.map(() => 'delivered 1'));
    expect(tenant.received.map((r) => r.id).sort(), 'each delivery reached the tenant once').to.deep.equal([...ids].sort());
    expect(tenant.received.every((r) => r.status === 200)).to.equal(true);
    expect(tenant.batches.length, 'batches').to.be.greaterThan(0);
    expect(Math.max(...tenant.batches.map((b) => b.length))).to.be.at.most(deliveriesPerForward).and.greaterThan(1);
    expect(t.requests.length, 'requests').to.be.lessThan(ids.length);
    expect(t.mostOpen, 'requests open at once').to.be.at.most(forwardsPerTenant);
  });

  it('a delivery its batch refused is retried on its own; the others of the batch are delivered', async () => {
    await h.addTenant('acme');
    let refusedId: string | undefined;
    t.rewrite = (url, status, body) => {
      if (!url.endsWith('/batch') || refusedId || status !== 200) return undefined;
      const answer = JSON.parse(body) as { results: { id: string; status: number; error?: string }[] };
      const second = answer.results[1] as { id: string; status: number; error?: string };
      refusedId = second.id;
      // The tenant could not take this one just now (it had processed and forgotten it).
      Object.assign(second, { status: 503, error: 'not ready', retryAfter: '1' });
      return { status: 200, body: JSON.stringify(answer) };
    };
    const ids = await stored(20);
    await h.ingress.router.handleAnnouncement({ deliveryIds: ids });
    expect(refusedId, 'a batch was sent').to.be.a('string');
    const refused = await h.ingress.deliveries.get(refusedId as string);
    expect(refused).to.include({ status: 'retrying', attempts: 1 });
    expect(refused.lastError).to.include('503').and.include('not ready');
    const others = (await records(ids)).filter((r) => r.deliveryId !== refusedId);
    expect(others.map((r) => r.status)).to.deep.equal(others.map(() => 'delivered'));

    await sleep(1200);
    await h.ingress.router.handleAnnouncement({ deliveryIds: [refusedId] });
    expect(await h.ingress.deliveries.get(refusedId as string)).to.include({ status: 'delivered', attempts: 2 });
  });

  it('a batch answered 5xx as a whole: each of its deliveries is retried, and delivered then', async () => {
    const tenant = await h.addTenant('acme');
    let failedBatch: string[] = [];
    t.rewrite = (url, _status, body) => {
      if (!url.endsWith('/batch') || failedBatch.length > 0) return undefined;
      failedBatch = (JSON.parse(body) as { results: { id: string }[] }).results.map((r) => r.id);
      return { status: 502, body: '{"error":"bad gateway"}' };
    };
    const ids = await stored(20);
    await h.ingress.router.handleAnnouncement({ deliveryIds: ids });
    expect(failedBatch.length).to.be.greaterThan(1);
    for (const r of await records(failedBatch)) expect(r, r.deliveryId).to.include({ status: 'retrying', attempts: 1 });
    await sleep(1200);
    await h.ingress.router.handleAnnouncement({ deliveryIds: failedBatch });
    expect((await records(ids)).map((r) => r.status)).to.deep.equal(ids.map(() => 'delivered'));
    // The tenant processed the failed batch's deliveries when it first saw them: the retry is a duplicate there, changing nothing.
    expect(new Set(tenant.received.filter((r) => r.status === 200).map((r) => r.id)).size).to.equal(ids.length);
  });

  it('a tenant runtime without the batch door: its deliveries go one by one, and no batch is tried again', async () => {
    const tenant = await h.addTenant('acme');
    let batchesTried = 0;
    t.intercept = (url) => {
      if (!url.endsWith('/batch')) return undefined;
      batchesTried++;
      return new Response('{"error":"no such route"}', { status: 404 });
    };
    const ids = await stored(30);
    await h.ingress.router.handleAnnouncement({ deliveryIds: ids });
    expect((await records(ids)).map((r) => `${r.status} ${r.attempts}`)).to.deep.equal(ids.map(() => 'delivered 1'));
    // Those open when the first refusal came back were tried too.
    expect(batchesTried, 'batches tried').to.be.greaterThan(0).and.at.most(forwardsPerTenant);
    const tried = batchesTried;
    expect(tenant.received.filter((r) => r.status === 200).map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    const more = await stored(20);
    await h.ingress.router.handleAnnouncement({ deliveryIds: more });
    expect(batchesTried, 'batches tried after the refusal').to.equal(tried);
    expect((await records(more)).map((r) => r.status)).to.deep.equal(more.map(() => 'delivered'));
  });
});
