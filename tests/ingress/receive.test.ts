import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { sign } from '@octokit/webhooks-methods';
import { platformSecretNames } from '../../runtime/core/secret-store.ts';
import { workflowRunPayload, pingPayload, starPayload, workflowJobPayload } from '../fixtures/index.ts';
import { eventually, startIngressHarness, storedCounts, webhookSecret, type IngressHarness } from './support.ts';

describe('ingress: receive', () => {
  let h: IngressHarness;
  before(async () => {
    // The router is off: what the intake stores and announces stays put for inspection.
    h = await startIngressHarness({ maxBodyBytes: 64 * 1024 }, { router: false });
  });
  after(() => h.close());

  describe('bad input gets a clear 4xx and changes nothing', () => {
    const cases: { name: string; status: number; send: () => Promise<Response> }[] = [
      { name: 'missing X-GitHub-Event', status: 400, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'x-github-event': undefined } }) },
      { name: 'missing X-GitHub-Delivery', status: 400, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'x-github-delivery': undefined } }) },
      { name: 'missing X-Hub-Signature-256', status: 400, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'x-hub-signature-256': undefined } }) },
      { name: 'a delivery id that cannot be one', status: 400, send: () => h.send('workflow_run', workflowRunPayload(), { deliveryId: "x'/../#?" }) },
      { name: 'a form-encoded body', status: 415, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } }) },
      { name: 'a signature made with another secret', status: 401, send: () => h.send('workflow_run', workflowRunPayload(), { secret: webhookSecret() }) },
      { name: 'a signature cut short', status: 401, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'x-hub-signature-256': 'sha256=abc' } }) },
      { name: 'a sha1 signature', status: 401, send: () => h.send('workflow_run', workflowRunPayload(), { headers: { 'x-hub-signature-256': 'sha1=0123456789abcdef0123456789abcdef01234567' } }) },
      { name: 'malformed JSON with a good signature', status: 400, send: () => h.send('workflow_run', undefined, { rawBody: '{"action": "completed",' }) },
      { name: 'a JSON array with a good signature', status: 400, send: () => h.send('workflow_run', undefined, { rawBody: '[1,2]' }) },
      {
        name: 'a body over the size cap',
        status: 413,
        send: () => h.send('workflow_run', { ...workflowRunPayload(), padding: 'x'.repeat(70 * 1024) }),
      },
      {
        name: 'a chunked body (no Content-Length) over the size cap',
        status: 413,
        send: async () => {
          const text = JSON.stringify({ ...workflowRunPayload(), padding: 'x'.repeat(200 * 1024) });
          const bytes = new TextEncoder().encode(text);
          let at = 0;
          const body = new ReadableStream<Uint8Array>({
            pull: (c) => (at < bytes.length ? (c.enqueue(bytes.subarray(at, at + 4096)), void (at += 4096)) : c.close()),
          });
          return fetch(h.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_run', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(h.secrets.get(platformSecretNames.webhookSecret) as string, text) },
            body,
            duplex: 'half',
          } as RequestInit);
        },
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        const before = await storedCounts(h);
        const res = await c.send();
        expect(res.status).to.equal(c.status);
        const body = (await res.json()) as { error?: string };
        expect(body.error, 'a clear reason').to.be.a('string').and.not.empty;
        expect(await storedCounts(h)).to.deep.equal(before);
      });
    }

    it('checks the signature before parsing: a bad signature on malformed JSON is 401, not 400', async () => {
      const res = await h.send('workflow_run', undefined, { rawBody: '{not json', secret: webhookSecret() });
      expect(res.status).to.equal(401);
    });
  });

  it('answers ping with 200 and stores nothing', async () => {
    const before = await storedCounts(h);
    const res = await h.send('ping', pingPayload());
    expect(res.status).to.equal(200);
    expect(await storedCounts(h)).to.deep.equal(before);
  });

  it('persists a workflow_run first: envelope, inline body and one queue message, then 202', async () => {
    const id = randomUUID();
    const payload = workflowRunPayload({ installationId: 777 });
    const res = await h.send('workflow_run', payload, { deliveryId: id });
    expect(res.status).to.equal(202);
    const record = await h.ingress.deliveries.get(id);
    expect(record).to.include({ deliveryId: id, event: 'workflow_run', action: 'completed', installationId: 777, signature: 'sha256', status: 'received' });
    expect(Date.parse(record.receivedAt)).to.be.closeTo(Date.now(), 10_000);
    expect(JSON.parse((await h.ingress.deliveries.body(record)).toString())).to.deep.equal(payload);
    expect(record.bodyBlob).to.equal(undefined);
    // Stored deflated: far smaller than the delivery itself.
    expect(record.bodyEncoding).to.equal('deflate-raw');
    expect(record.body?.length).to.be.below(record.bodyBytes / 3);
  });

  it('records an event Zekt does not use as ignored (202) and never routes it', async () => {
    const id = randomUUID();
    const res = await h.send('star', starPayload(), { deliveryId: id });
    expect(res.status).to.equal(202);
    expect((await h.ingress.deliveries.get(id)).status).to.equal('ignored');
  });

  it('answers a repeated delivery id with 200 and stores nothing new (×3, sequential and concurrent)', async () => {
    const id = randomUUID();
    const payload = workflowJobPayload();
    const before = await storedCounts(h);
    expect((await h.send('workflow_job', payload, { deliveryId: id })).status).to.equal(202);
    const after1 = await storedCounts(h);
    expect(after1.rows).to.equal(before.rows + 1);
    expect(after1.messages).to.equal(before.messages + 1);
    const repeats = await Promise.all([1, 2].map(() => h.send('workflow_job', payload, { deliveryId: id })));
    expect(repeats.map((r) => r.status)).to.deep.equal([200, 200]);
    const after3 = await storedCounts(h);
    // Nothing new is stored. (A repeat of a row not yet routed is announced again, which is harmless:
    // the router finishes each delivery once — see route.test.ts.)
    expect({ rows: after3.rows, blobs: after3.blobs }).to.deep.equal({ rows: after1.rows, blobs: after1.blobs });

    const concurrentId = randomUUID();
    const burst = await Promise.all([1, 2, 3].map(() => h.send('workflow_job', payload, { deliveryId: concurrentId })));
    expect(burst.map((r) => r.status).sort()).to.deep.equal([200, 200, 202]);
  });

  it('stores the new deliveries of a batch that also carries a repeat (the table refuses the batch once)', async () => {
    const payload = workflowJobPayload();
    const repeated = randomUUID();
    expect((await h.send('workflow_job', payload, { deliveryId: repeated })).status).to.equal(202);
    const before = await storedCounts(h);
    // Sent together they share a round: the repeat's partition transaction meets its existing row.
    const fresh = Array.from({ length: 10 }, () => randomUUID());
    const answers = await Promise.all([repeated, ...fresh].map((id) => h.send('workflow_job', payload, { deliveryId: id })));
    expect(answers.map((r) => r.status)).to.deep.equal([200, ...fresh.map(() => 202)]);
    for (const id of fresh) expect((await h.ingress.deliveries.get(id)).status).to.equal('received');
    expect((await storedCounts(h)).rows).to.equal(before.rows + fresh.length);
  });

  it('accepts the previous secret during a rotation, and records which one matched', async () => {
    const previous = h.secrets.get(platformSecretNames.webhookSecret) as string;
    const current = webhookSecret();
    h.secrets.set(platformSecretNames.webhookSecret, current);
    h.secrets.set(platformSecretNames.webhookSecretPrevious, previous);
    try {
      const oldId = randomUUID();
      const newId = randomUUID();
      expect((await h.send('workflow_run', workflowRunPayload(), { deliveryId: oldId, secret: previous })).status).to.equal(202);
      expect((await h.send('workflow_run', workflowRunPayload(), { deliveryId: newId, secret: current })).status).to.equal(202);
      expect((await h.ingress.deliveries.get(oldId)).signature).to.equal('sha256-previous');
      expect((await h.ingress.deliveries.get(newId)).signature).to.equal('sha256');
      h.secrets.delete(platformSecretNames.webhookSecretPrevious);
      expect((await h.send('workflow_run', workflowRunPayload(), { secret: previous })).status).to.equal(401);
    } finally {
      h.secrets.set(platformSecretNames.webhookSecret, previous);
      h.secrets.delete(platformSecretNames.webhookSecretPrevious);
    }
  });

  it('answers 500 without a configured webhook secret, and stores nothing', async () => {
    const secret = h.secrets.get(platformSecretNames.webhookSecret) as string;
    h.secrets.delete(platformSecretNames.webhookSecret);
    try {
      const before = await storedCounts(h);
      const body = JSON.stringify(workflowRunPayload());
      const res = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_run', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': await sign(secret, body) },
        body,
      });
      expect(res.status).to.equal(500);
      expect(await storedCounts(h)).to.deep.equal(before);
    } finally {
      h.secrets.set(platformSecretNames.webhookSecret, secret);
    }
  });
});

describe('ingress: large bodies and partial failures', () => {
  it('keeps a body beyond the inline limit in a blob, and serves it back', async () => {
    // Bodies are deflated first (a 17 KB run is about 3 KB): a 1 KiB limit sends it to a blob.
    const h = await startIngressHarness({ inlineBodyBytes: 1024 });
    try {
      const id = randomUUID();
      const payload = workflowRunPayload();
      expect((await h.send('workflow_run', payload, { deliveryId: id })).status).to.equal(202);
      const record = await h.ingress.deliveries.get(id);
      expect(record.bodyBlob).to.equal(`${id}.json`);
      expect(record.body).to.equal(undefined);
      expect(JSON.parse((await h.ingress.deliveries.body(record)).toString())).to.deep.equal(payload);
    } finally {
      await h.close();
    }
  });

  for (const routeInProcess of [true, false]) {
    const how = routeInProcess ? 'handed to the router of this process' : 'the stray announcement is dropped';
    it(`never turns a failed row write into a dropped duplicate (${how}): GitHub's retry is stored`, async () => {
      const h = await startIngressHarness({}, { routeInProcess });
      try {
        const tenant = await h.addTenant('acme');
        await h.ingress.installations.bind(4242, 'acme', {}, new Date());
        // The row is not stored: the table is gone.
        await h.storage.table('deliveries').deleteTable();
        const id = randomUUID();
        const payload = workflowRunPayload();
        const first = await h.send('workflow_run', payload, { deliveryId: id });
        expect(first.status).to.equal(500);
        await h.storage.table('deliveries').createTable();
        const retry = await h.send('workflow_run', payload, { deliveryId: id });
        expect(retry.status).to.equal(202);
        await eventually(h, async () => expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered'));
        expect(tenant.received.filter((r) => r.id === id)).to.have.length(1);
      } finally {
        await h.close();
      }
    });
  }

  it('never turns a failed announcement into a dropped duplicate: GitHub\'s retry is routed', async () => {
    // Every round announced (no hand-over to a router here, or one it declined).
    const h = await startIngressHarness({}, { routeInProcess: false });
    try {
      const tenant = await h.addTenant('acme');
      await h.ingress.installations.bind(4242, 'acme', {}, new Date());
      // The row commits, then the queue message fails: the queue is gone.
      await h.storage.queue('ingress-deliveries').delete();
      const id = randomUUID();
      const payload = workflowRunPayload();
      const first = await h.send('workflow_run', payload, { deliveryId: id });
      expect(first.status).to.equal(500);
      expect((await h.ingress.deliveries.get(id)).status).to.equal('received');
      // GitHub's redelivery of the same id, once the queue is back.
      await h.storage.queue('ingress-deliveries').create();
      const retry = await h.send('workflow_run', payload, { deliveryId: id });
      expect(retry.status).to.equal(200);
      await eventually(h, async () => expect((await h.ingress.deliveries.get(id)).status).to.equal('delivered'));
      expect(tenant.received.filter((r) => r.id === id)).to.have.length(1);
    } finally {
      await h.close();
    }
  });
});
