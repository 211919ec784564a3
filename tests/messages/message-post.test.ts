import { expect } from 'chai';
import { SignJWT, generateKeyPair } from 'jose';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/start-github-double.ts';
import { audience, startMessageHarness, type MessageHarness } from './support.ts';

describe('messages: POST /api/messages (provider runs, OIDC only)', () => {
  let h: MessageHarness;
  let otherIssuer: GitHubDouble;
  let runId = 1000;
  let failNotices = false;

  before(async () => {
    [h, otherIssuer] = await Promise.all([startMessageHarness({ failNotices: () => failNotices }), startGitHubDouble()]);
    otherIssuer.addRepository({ fullName: 'acme/provider', ownerType: 'Organization' });
  });
  after(async () => {
    await Promise.all([h.close(), otherIssuer.close()]);
  });
  afterEach(() => {
    h.clockOffset = 0;
  });

  async function post(token: string | undefined, body: string | Buffer, query = '', headers: Record<string, string> = {}) {
    const response = await fetch(`${h.messagesUrl}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function stored() {
    return { messages: (await h.rows('message')).length, jtis: (await h.rows('jti')).length };
  }

  /** Runs a refused request and checks that it stored nothing: no message, no spent token. */
  async function refused(expected: number, send: () => Promise<{ status: number; body: Record<string, unknown> }>) {
    const before = await stored();
    const { status, body } = await send();
    expect(status, JSON.stringify(body)).to.equal(expected);
    expect(body.error).to.be.a('string');
    expect(await stored()).to.deep.equal(before);
  }

  it('stores a message from a run of one of the tenant\'s repositories and answers its reference', async () => {
    const token = await h.token({ repository: 'acme/provider', runId: ++runId, runAttempt: 2 });
    const body = JSON.stringify({ version: '1.4.2', artifacts: ['a.tgz'] });
    const { status, body: reference } = await post(token, body, '?name=build');
    expect(status).to.equal(201);
    expect(reference).to.include({ name: 'build', size: Buffer.byteLength(body) });
    expect(reference.url).to.equal(`${h.messagesUrl}/${String(reference.id)}`);
    const run = { repositoryId: h.repositoryId('acme/provider'), runId, runAttempt: 2 };
    expect((await h.store.referencesOfRun(run)).map((r) => r.id)).to.deep.equal([reference.id]);
    // At rest the row holds ciphertext only: the body's text is nowhere in it.
    const [row] = (await h.rows('message')).filter((r) => r.rowKey === reference.id);
    expect(JSON.stringify(row)).to.not.include('1.4.2');
    expect(row).to.include({ repositoryId: run.repositoryId, runId, runAttempt: 2, name: 'build', state: 'live' });
    expect(row?.keyId).to.match(/^k1-[0-9a-f]{16}$/);
    // No token and no body in the logs.
    expect(JSON.stringify(h.logs)).to.not.include(token.split('.')[2] as string).and.not.include('1.4.2');
  });

  it('replaces a message posted again under the same key; the old id answers 410 to a recipient', async () => {
    const id = ++runId;
    const first = await post(await h.token({ repository: 'acme/provider', runId: id }), '{"n":1}');
    const second = await post(await h.token({ repository: 'acme/provider', runId: id }), '{"n":2}');
    expect([first.status, second.status]).to.deep.equal([201, 201]);
    expect(second.body.id).to.not.equal(first.body.id);
    const refs = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 });
    expect(refs.map((r) => r.id)).to.deep.equal([second.body.id]);
    const consumer = h.repositoryId('acme/consumer');
    h.delivered.add(`${String(first.body.id)}:${consumer}`);
    const old = await fetch(`${h.messagesUrl}/${String(first.body.id)}`, { headers: { authorization: `Bearer ${await h.token({ repository: 'acme/consumer', runId: 5 })}` } });
    expect(old.status).to.equal(410);
  });

  it('answers 500 when the event side cannot be told of the message, so the sender posts again', async () => {
    const id = ++runId;
    failNotices = true;
    try {
      const failed = await post(await h.token({ repository: 'acme/provider', runId: id }), '{"n":1}', '?name=late');
      expect(failed.status).to.equal(500);
      expect(failed.body).to.deep.equal({ error: 'internal error' });
    } finally {
      failNotices = false;
    }
    // The Action's retry (a fresh token): stored again under the same key, and this time announced.
    const retried = await post(await h.token({ repository: 'acme/provider', runId: id }), '{"n":1}', '?name=late');
    expect(retried.status).to.equal(201);
    expect(h.posted.filter((p) => p.run.runId === id).map((p) => p.reference.id)).to.deep.equal([retried.body.id]);
    expect((await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId: id, runAttempt: 1 })).map((r) => r.id)).to.deep.equal([retried.body.id]);
    expect(JSON.stringify(h.logs)).to.include('its event could not be told');
  });

  it('keeps messages of one run apart by name and by attempt', async () => {
    const id = ++runId;
    for (const [name, attempt] of [['a', 1], ['b', 1], ['a', 2]] as const) {
      expect((await post(await h.token({ repository: 'acme/provider', runId: id, runAttempt: attempt }), `{"${name}":${attempt}}`, `?name=${name}`)).status).to.equal(201);
    }
    const provider = h.repositoryId('acme/provider');
    expect((await h.store.referencesOfRun({ repositoryId: provider, runId: id, runAttempt: 1 })).map((r) => r.name)).to.deep.equal(['a', 'b']);
    expect((await h.store.referencesOfRun({ repositoryId: provider, runId: id, runAttempt: 2 })).map((r) => r.name)).to.deep.equal(['a']);
  });

  it('refuses a request without a token, or with something that is not a bearer token: 401', async () => {
    await refused(401, () => post(undefined, '{}'));
    await refused(401, () => post(undefined, '{}', '', { authorization: 'token ghs_notAnOidcToken' }));
  });

  it('refuses an unsigned token (alg none): 401', async () => {
    const claims = { iss: h.double.oidcIssuer, aud: audience, repository_id: String(h.repositoryId('acme/provider')), run_id: '1', run_attempt: '1', jti: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 };
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    await refused(401, () => post(unsigned, '{}'));
  });

  it('refuses a token signed by a key the issuer never published: 401', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ repository_id: String(h.repositoryId('acme/provider')), run_id: '1', run_attempt: '1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer(h.double.oidcIssuer)
      .setAudience(audience)
      .setJti('forged-jti')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await refused(401, () => post(forged, '{}'));
  });

  it('refuses a token from another issuer: 401', async () => {
    const token = await otherIssuer.issueOidcToken({ repository: 'acme/provider', audience, runId: ++runId });
    await refused(401, () => post(token, '{}'));
  });

  it("refuses a token for another audience (another tenant's, or GitHub's default): 401", async () => {
    await refused(401, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId, audience: 'zekt:globex' }), '{}'));
    await refused(401, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId, audience: 'https://github.com/acme' }), '{}'));
  });

  it('refuses an expired token, and one not yet valid, beyond the clock tolerance: 401', async () => {
    const token = await h.token({ repository: 'acme/provider', runId: ++runId });
    h.clockOffset = 6 * 60_000; // GitHub tokens live 5 minutes; the tolerance is one
    await refused(401, () => post(token, '{}'));
    h.clockOffset = -15 * 60_000; // before nbf (iat - 10 min) less the tolerance
    await refused(401, () => post(token, '{}'));
    h.clockOffset = 5 * 60_000 + 30_000; // inside the tolerance
    expect((await post(token, '{}')).status).to.equal(201);
  });

  it('refuses a token used a second time: 401, the first message alone is kept', async () => {
    const token = await h.token({ repository: 'acme/provider', runId: ++runId });
    expect((await post(token, '{"first":true}')).status).to.equal(201);
    await refused(401, () => post(token, '{"second":true}'));
    const refs = await h.store.referencesOfRun({ repositoryId: h.repositoryId('acme/provider'), runId, runAttempt: 1 });
    expect(refs).to.have.length(1);
  });

  it('lets only one of two concurrent requests with the same token through', async () => {
    const token = await h.token({ repository: 'acme/provider', runId: ++runId });
    const statuses = await Promise.all([post(token, '{"a":1}', '?name=x'), post(token, '{"a":2}', '?name=y')]);
    expect(statuses.map((s) => s.status).sort()).to.deep.equal([201, 401]);
  });

  it("refuses a repository that is not one of the tenant's installations: 403", async () => {
    await refused(403, async () => post(await h.token({ repository: 'globex/outsider', runId: ++runId }), '{}'));
  });

  it('refuses a provider whose publish policy names no consumer: 403', async () => {
    const quiet = { id: h.repositoryId('acme/quiet'), fullName: 'acme/quiet' };
    await h.index.setPublishPolicy({ provider: quiet, consumers: [], settledReport: false });
    await refused(403, async () => post(await h.token({ repository: 'acme/quiet', runId: ++runId }), '{}'));
    await h.index.setPublishPolicy({ provider: quiet, consumers: [h.repositoryId('acme/consumer')], settledReport: false });
    expect((await post(await h.token({ repository: 'acme/quiet', runId: ++runId }), '{}')).status).to.equal(201);
  });

  it('refuses a body over the limit, declared or streamed: 413', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(64 * 1024) });
    await refused(413, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId }), big));
    // Chunked, no content-length: cut off while it streams.
    const token = await h.token({ repository: 'acme/provider', runId: ++runId });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"blob":"' : 'y'.repeat(4096)));
        controller.close();
      },
    });
    await refused(413, async () => {
      const response = await fetch(h.messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    });
    // Exactly at the limit is accepted.
    const exact = JSON.stringify({ blob: 'z'.repeat(64 * 1024 - 11) });
    expect(Buffer.byteLength(exact)).to.equal(64 * 1024);
    expect((await post(await h.token({ repository: 'acme/provider', runId: ++runId }), exact)).status).to.equal(201);
  });

  it('refuses a body nested too deep, not JSON, or a bad name: 400', async () => {
    await refused(400, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId }), `${'['.repeat(33)}${']'.repeat(33)}`));
    expect((await post(await h.token({ repository: 'acme/provider', runId: ++runId }), `${'['.repeat(32)}"[[[["${']'.repeat(32)}`)).status).to.equal(201);
    await refused(400, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId }), '{"unterminated": '));
    await refused(400, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId }), Buffer.from([0x7b, 0xff, 0x7d])));
    await refused(400, async () => post(await h.token({ repository: 'acme/provider', runId: ++runId }), '{}', '?name=../../etc'));
  });
});
