import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startMessageHarness, type MessageHarness } from './support.ts';

describe('messages: fetch, receipts, TTL and integrity', () => {
  let h: MessageHarness;
  let runId = 5000;

  before(async () => {
    h = await startMessageHarness();
  });
  after(() => h.close());
  afterEach(() => {
    h.clockOffset = 0;
  });

  async function postMessage(body: string, name?: string) {
    const id = ++runId;
    const token = await h.token({ repository: 'acme/provider', runId: id });
    const response = await fetch(`${h.messagesUrl}${name ? `?name=${name}` : ''}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
    expect(response.status).to.equal(201);
    return { runId: id, reference: (await response.json()) as { id: string; url: string; sha256: string; size: number } };
  }

  async function fetchAs(repository: string, id: string) {
    const token = await h.token({ repository, runId: 77 });
    const response = await fetch(`${h.messagesUrl}/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, text: await response.text(), sha256: response.headers.get('x-zekt-sha256') };
  }

  it('answers the JSON, byte for byte, to a consumer that was delivered an event referencing it', async () => {
    const body = '{"version": "2.0.0",  "notes": "spacing kept"}';
    const { reference } = await postMessage(body);
    h.delivered.add(`${reference.id}:${h.repositoryId('acme/consumer')}`);
    const answer = await fetchAs('acme/consumer', reference.id);
    expect(answer.status).to.equal(200);
    expect(answer.text).to.equal(body);
    expect(createHash('sha256').update(answer.text).digest('hex')).to.equal(reference.sha256).and.equal(answer.sha256);
  });

  it('refuses a second consumer without that delivery, and the provider itself: 403, nothing returned', async () => {
    const { reference } = await postMessage('{"secret-ish":"do not leak"}');
    h.delivered.add(`${reference.id}:${h.repositoryId('acme/consumer')}`);
    for (const repository of ['acme/bystander', 'acme/provider', 'globex/outsider']) {
      const answer = await fetchAs(repository, reference.id);
      expect(answer.status, repository).to.equal(403);
      expect(answer.text).to.not.include('leak');
    }
    // An id that does not exist is refused the same way: ids cannot be probed.
    expect((await fetchAs('acme/bystander', randomUUID())).status).to.equal(403);
  });

  it('refuses a fetch without a valid token: 401', async () => {
    const { reference } = await postMessage('{}');
    expect((await fetch(`${h.messagesUrl}/${reference.id}`)).status).to.equal(401);
  });

  it('answers 410 once the TTL has passed, purges it with the timer, and forgets the tombstone later', async () => {
    const { runId: id, reference } = await postMessage('{"short":"lived"}', 'ttl');
    const consumer = h.repositoryId('acme/consumer');
    h.delivered.add(`${reference.id}:${consumer}`);
    const run = { repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 };
    h.clockOffset = 7 * 86_400_000 + 60_000;
    // Past its TTL a message is gone even before the timer runs.
    expect((await fetchAs('acme/consumer', reference.id)).status).to.equal(410);
    await h.purge();
    const [row] = (await h.rows('message')).filter((r) => r.rowKey === reference.id);
    expect(row).to.include({ state: 'expired' });
    expect(Object.keys(row ?? {}).filter((k) => /^c\d+$/.test(k) || k === 'iv')).to.deep.equal([]);
    expect(await h.store.referencesOfRun(run)).to.deep.equal([]);
    expect((await h.rows(`run-${run.repositoryId}-${id}-1`))).to.deep.equal([]);
    const answer = await fetchAs('acme/consumer', reference.id);
    expect(answer.status).to.equal(410);
    expect(answer.text).to.not.include('lived');
    // One TTL later the tombstone and the spent tokens are forgotten.
    h.clockOffset = 15 * 86_400_000;
    await h.purge();
    expect((await h.rows('message')).filter((r) => r.rowKey === reference.id)).to.deep.equal([]);
    expect(await h.rows('jti')).to.deep.equal([]);
  });

  it('refuses a tampered ciphertext, and a ciphertext moved to another message: 500, nothing returned', async () => {
    const consumer = h.repositoryId('acme/consumer');
    const a = await postMessage('{"which":"aaaaaaaa"}');
    const b = await postMessage('{"which":"bbbbbbbb"}');
    h.delivered.add(`${a.reference.id}:${consumer}`).add(`${b.reference.id}:${consumer}`);
    const rowA = await h.table.getEntity<Record<string, unknown>>('message', a.reference.id);
    const flipped = Buffer.from(rowA.c0 as Uint8Array);
    flipped[3] = (flipped[3] as number) ^ 0x01;
    await h.table.updateEntity({ partitionKey: 'message', rowKey: a.reference.id, c0: flipped }, 'Merge');
    const tampered = await fetchAs('acme/consumer', a.reference.id);
    expect(tampered.status).to.equal(500);
    expect(tampered.text).to.not.include('aaaa');
    // B's own sealed bytes, nonce and key id under B's row... moved to another run's binding: refused.
    const rowB = await h.table.getEntity<Record<string, unknown>>('message', b.reference.id);
    await h.table.updateEntity({ partitionKey: 'message', rowKey: b.reference.id, runId: Number(rowB.runId) + 1 }, 'Merge');
    const moved = await fetchAs('acme/consumer', b.reference.id);
    expect(moved.status).to.equal(500);
    expect(moved.text).to.not.include('bbbb');
    expect(JSON.stringify(h.logs)).to.include('stored message refused');
  });

  it('links the consumer run on a receipt; refuses a repository the event was not delivered to: 403', async () => {
    const eventId = `evt-${randomUUID()}`;
    const consumer = h.repositoryId('acme/consumer');
    h.deliveries.add(`${eventId}:${consumer}`);
    const receipt = async (repository: string, id: number, attempt: number, body: unknown) => {
      const token = await h.token({ repository, runId: id, runAttempt: attempt });
      const response = await fetch(`${h.host.url}/api/receipts`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      return response.status;
    };
    expect(await receipt('acme/consumer', 4242, 2, { event_id: eventId })).to.equal(200);
    expect(h.receipts).to.deep.equal([{ eventId, consumerRepositoryId: consumer, runId: 4242, runAttempt: 2 }]);
    expect(await receipt('acme/bystander', 4243, 1, { event_id: eventId })).to.equal(403);
    expect(await receipt('acme/consumer', 4244, 1, {})).to.equal(400);
    expect(await receipt('globex/outsider', 4245, 1, { event_id: eventId })).to.equal(403);
    expect(h.receipts).to.have.length(1);
  });

  it('loses no message posted while the run completes: read at dispatch time, or announced after it is visible', async () => {
    // The event side reads a run's references when it builds each delivery. A message stored
    // before that read is in it; one stored after is announced (onPosted) once it is readable.
    const id = ++runId;
    const run = { repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 };
    const post = async (name: string) => {
      const token = await h.token({ repository: 'acme/provider', runId: id });
      const response = await fetch(`${h.messagesUrl}?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: `{"${name}":true}` });
      return ((await response.json()) as { id: string }).id;
    };
    const early = await post('early');
    const [late, builtWith] = await Promise.all([post('late'), h.store.referencesOfRun(run)]);
    const announced = h.posted.filter((p) => p.run.runId === id);
    expect(builtWith.map((r) => r.id)).to.include(early);
    const lateNotice = announced.find((p) => p.reference.id === late);
    expect(lateNotice, 'the late message was announced').to.not.equal(undefined);
    expect(lateNotice?.visible, 'visible to a reader by the time it is announced').to.equal(true);
    // Either the event was built with it, or its announcement came after: the event side can follow up.
    expect((await h.store.referencesOfRun(run)).map((r) => r.name)).to.deep.equal(['early', 'late']);
  });
});
