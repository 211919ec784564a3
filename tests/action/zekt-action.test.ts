import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { audience, startMessageHarness, type MessageHarness } from '../messages/support.ts';
import { startIdTokenEndpoint, type IdTokenEndpoint } from './run-action.ts';

describe('the Zekt Action, run as the runner runs it', function () {
  this.timeout(60_000);
  let h: MessageHarness;
  let runner: IdTokenEndpoint;
  let runId = 9000;
  const fast = { 'retry-delays': '0.05,0.05' };

  before(async () => {
    h = await startMessageHarness();
    runner = await startIdTokenEndpoint(h.double);
  });
  after(async () => {
    await runner.close();
    await h.close();
  });

  const send = (repository: string, id: number, inputs: Record<string, string>) =>
    runner.run({ run: { repository, runId: id }, inputs: { mode: 'send', endpoint: h.messagesUrl, audience, ...fast, ...inputs } });

  function zektEvent(provider: { runId: number }, messages: unknown[], followUp?: { id: string; message_id: string }) {
    return {
      action: 'zekt.workflow_run',
      // As the tenant runtime sends it (runtime/tenant/dispatch/client-payload.ts).
      client_payload: {
        zekt: { version: 1, event_id: `evt-${randomUUID()}`, delivery_id: `d-${randomUUID().slice(0, 8)}`, correlation_id: `zekt-${randomUUID().slice(0, 8)}`, ...(followUp ? { follow_up: followUp } : {}) },
        provider: { repository: 'acme/provider', repository_id: h.repositoryId('acme/provider') },
        workflow: { name: 'Release', path: '.github/workflows/release.yml' },
        run: { id: provider.runId, attempt: 1, conclusion: 'success', head_branch: 'main', head_sha: 'a'.repeat(40), url: `https://github.com/acme/provider/actions/runs/${provider.runId}` },
        messages,
      },
    };
  }

  it('send: posts the message with the run\'s OIDC token, sets its outputs, prints neither token nor body', async () => {
    const id = ++runId;
    const result = await send('acme/provider', id, { message: '{"release":"3.1.0","secretish":"s3cr3t-value"}', name: 'release' });
    expect(result.code, result.stdout).to.equal(0);
    const [ref] = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 });
    expect(result.outputs['message-id']).to.equal(ref?.id);
    expect(result.outputs.sha256).to.equal(ref?.sha256);
    expect(result.stdout).to.not.include('s3cr3t-value');
    expect(result.tokens).to.have.length(1);
    // The token appears only in the `::add-mask::` command the runner consumes (and masks it with).
    const shown = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n');
    expect(result.stdout).to.include(`::add-mask::${result.tokens[0]}`);
    for (const token of result.tokens) expect(shown).to.not.include(token.split('.')[2] as string);
  });

  it('send: reads message-file', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp(`${(await import('node:os')).tmpdir()}/zekt-msg-`);
    await writeFile(`${dir}/m.json`, '{"from":"file"}');
    const id = ++runId;
    const result = await send('acme/provider', id, { 'message-file': `${dir}/m.json` });
    expect(result.code, result.stdout).to.equal(0);
    expect(await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 })).to.have.length(1);
  });

  it("send: fails the step with the server's error when refused, and does not retry it", async () => {
    const result = await send('globex/outsider', ++runId, { message: '{}' });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include('::error::sending the message refused (403)').and.include("not one of this tenant's installations");
    expect(result.tokens).to.have.length(1);
  });

  it('send: fails before sending when the message is not JSON', async () => {
    const result = await send('acme/provider', ++runId, { message: '{not json, with a password inside}' });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include('::error::the message is not JSON').and.not.include('password');
    expect(result.tokens).to.deep.equal([]);
  });

  it('send: retries a transient failure with a fresh token each time', async () => {
    let failuresLeft = 2;
    const flaky = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failuresLeft-- > 0) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        fetch(`${h.host.url}${req.url ?? ''}`, { method: req.method ?? 'POST', headers: { authorization: req.headers.authorization ?? '' }, body: Buffer.concat(chunks) })
          .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const id = ++runId;
      const endpoint = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/api/messages`;
      const result = await send('acme/provider', id, { endpoint, message: '{"retried":true}' });
      expect(result.code, result.stdout).to.equal(0);
      expect(result.stdout).to.include('retrying');
      expect(new Set(result.tokens).size).to.equal(3);
    } finally {
      flaky.close();
      flaky.closeAllConnections();
    }
  });

  it('receive: fetches each message with its own token, checks the digest, posts the receipt, sets the outputs', async () => {
    const providerRun = ++runId;
    const sent = await send('acme/provider', providerRun, { message: '{"release":"3.2.0"}' });
    const named = await send('acme/provider', providerRun, { message: '{"notes":"n"}', name: 'notes' });
    expect([sent.code, named.code]).to.deep.equal([0, 0]);
    const refs = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: providerRun, runAttempt: 1 });
    const event = zektEvent({ runId: providerRun }, refs);
    const consumer = h.repositoryId('acme/consumer');
    for (const ref of refs) h.delivered.add(`${ref.id}:${consumer}`);
    h.deliveries.add(`${event.client_payload.zekt.event_id}:${consumer}`);

    const result = await runner.run({ run: { repository: 'acme/consumer', runId: 777, runAttempt: 2 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience, ...fast }, event });
    expect(result.code, result.stdout).to.equal(0);
    expect(result.outputs).to.include({
      'event-id': event.client_payload.zekt.event_id,
      'correlation-id': event.client_payload.zekt.correlation_id,
      message: '{"release":"3.2.0"}',
      'provider-repository': 'acme/provider',
      'provider-run-id': String(providerRun),
      conclusion: 'success',
    });
    expect(result.outputs['follow-up']).to.equal('false');
    expect(JSON.parse(result.outputs.messages as string)).to.deep.equal({ default: { release: '3.2.0' }, notes: { notes: 'n' } });
    expect(h.receipts.at(-1)).to.deep.equal({ eventId: event.client_payload.zekt.event_id, consumerRepositoryId: consumer, runId: 777, runAttempt: 2 });
    // Two fetches and one receipt, each with its own token.
    expect(new Set(result.tokens).size).to.equal(3);
    expect(result.stdout).to.not.include('3.2.0');
  });

  it('receive: a follow-up (a message stored after the first dispatch) is handled like a first delivery and says so', async () => {
    const providerRun = ++runId;
    expect((await send('acme/provider', providerRun, { message: '{"early":1}', name: 'early' })).code).to.equal(0);
    expect((await send('acme/provider', providerRun, { message: '{"late":2}', name: 'late' })).code).to.equal(0);
    const refs = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: providerRun, runAttempt: 1 });
    const late = refs.find((r) => r.name === 'late');
    const consumer = h.repositoryId('acme/consumer');
    for (const ref of refs) h.delivered.add(`${ref.id}:${consumer}`);
    const event = zektEvent({ runId: providerRun }, refs, { id: `d~${late?.id}`, message_id: late?.id as string });
    h.deliveries.add(`${event.client_payload.zekt.event_id}:${consumer}`);
    const result = await runner.run({ run: { repository: 'acme/consumer', runId: 782 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience, name: 'late', ...fast }, event });
    expect(result.code, result.stdout).to.equal(0);
    expect(result.outputs).to.include({ 'follow-up': 'true', message: '{"late":2}' });
    expect(JSON.parse(result.outputs.messages as string)).to.deep.equal({ early: { early: 1 }, late: { late: 2 } });
    expect(result.stdout).to.include('follow-up');
    expect(h.receipts.at(-1)?.runId).to.equal(782);
  });

  it('receive: an event without messages still posts the receipt', async () => {
    const event = zektEvent({ runId: ++runId }, []);
    const consumer = h.repositoryId('acme/consumer');
    h.deliveries.add(`${event.client_payload.zekt.event_id}:${consumer}`);
    const result = await runner.run({ run: { repository: 'acme/consumer', runId: 778 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience, ...fast }, event });
    expect(result.code, result.stdout).to.equal(0);
    expect(result.outputs.message).to.equal('');
    expect(h.receipts.at(-1)?.runId).to.equal(778);
  });

  it('receive: refuses a message whose digest does not match, and posts no receipt', async () => {
    const providerRun = ++runId;
    expect((await send('acme/provider', providerRun, { message: '{"x":1}' })).code).to.equal(0);
    const [ref] = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: providerRun, runAttempt: 1 });
    const consumer = h.repositoryId('acme/consumer');
    h.delivered.add(`${ref?.id}:${consumer}`);
    const event = zektEvent({ runId: providerRun }, [{ ...ref, sha256: '0'.repeat(64) }]);
    h.deliveries.add(`${event.client_payload.zekt.event_id}:${consumer}`);
    const before = h.receipts.length;
    const result = await runner.run({ run: { repository: 'acme/consumer', runId: 779 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience, ...fast }, event });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include('does not match its digest');
    expect(h.receipts.length).to.equal(before);
  });

  it('receive: a repository the message was not delivered to fails the step with 403', async () => {
    const providerRun = ++runId;
    expect((await send('acme/provider', providerRun, { message: '{"y":2}' })).code).to.equal(0);
    const refs = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: providerRun, runAttempt: 1 });
    const result = await runner.run({ run: { repository: 'acme/bystander', runId: 780 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience, ...fast }, event: zektEvent({ runId: providerRun }, refs) });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include('(403)');
  });

  it('receive: fails clearly outside a Zekt repository_dispatch', async () => {
    const result = await runner.run({ run: { repository: 'acme/consumer', runId: 781 }, inputs: { mode: 'receive', endpoint: h.messagesUrl, audience }, event: { ref: 'refs/heads/main' } });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include('not started by a Zekt event');
  });
});
