import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { request } from '@octokit/request';
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl, refreshToken } from '@octokit/oauth-methods';
import { s256 } from '../../local/github-double/oauth-web-flow.ts';
import { apiRequest, refusal, useGitHubDouble } from './support.ts';

const callback = 'http://127.0.0.1:7071/api/auth/callback';

describe('GitHub double: OAuth web flow with PKCE', () => {
  let clock = Date.now();
  const ctx = useGitHubDouble({ now: () => clock, app: { callbackUrls: [callback] } });
  let orgInstallation: number;
  let otherInstallation: number;

  before(() => {
    ctx.double.addUser({ login: 'alice', name: 'Alice', email: 'alice@example.com', organizations: ['acme'] });
    ctx.double.addUser({ login: 'mallory' });
    orgInstallation = ctx.double.addInstallation({ account: 'acme', repositories: ['provider', 'consumer'] }).id;
    otherInstallation = ctx.double.addInstallation({ account: 'globex', repositories: ['secret'] }).id;
  });
  beforeEach(() => {
    clock = Date.now();
    ctx.double.signInAs(undefined);
  });
  afterEach(() => {
    expect(ctx.double.takeSchemaErrors()).to.deep.equal([]);
  });

  /** Runs the browser half: the authorize URL (as oauth-methods builds it, plus PKCE) and its redirect. */
  async function authorize(options: { login?: string; challenge?: string; state?: string; redirect?: string } = {}) {
    const { url } = getWebFlowAuthorizationUrl({
      clientType: 'github-app',
      clientId: ctx.double.app.clientId,
      redirectUrl: options.redirect ?? callback,
      state: options.state ?? 'st4te',
      ...(options.login ? { login: options.login } : {}),
      request: apiRequest(ctx.double),
    });
    const withPkce = new URL(url);
    if (options.challenge) {
      withPkce.searchParams.set('code_challenge', options.challenge);
      withPkce.searchParams.set('code_challenge_method', 'S256');
    }
    expect(withPkce.origin + withPkce.pathname).to.equal(`${ctx.double.webUrl}/login/oauth/authorize`);
    const res = await fetch(withPkce, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    return new URL(res.headers.get('location') ?? '');
  }

  const exchange = (code: string, verifier?: string, secret = ctx.double.app.clientSecret) =>
    request('POST /login/oauth/access_token', {
      baseUrl: ctx.double.webUrl,
      headers: { accept: 'application/json' },
      client_id: ctx.double.app.clientId,
      client_secret: secret,
      code,
      redirect_uri: callback,
      ...(verifier ? { code_verifier: verifier } : {}),
    }).then((r) => r.data as Record<string, string | number>);

  it('consents at once and redirects to the callback with code and state', async () => {
    const location = await authorize({ state: 'abc123' });
    expect(location.origin + location.pathname).to.equal(callback);
    expect(location.searchParams.get('state')).to.equal('abc123');
    expect(location.searchParams.get('code')).to.match(/^[0-9a-f]{20}$/);
  });

  it('exchanges a code with the right verifier for a ghu_ token of the signed-in user', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const code = (await authorize({ challenge: s256(verifier) })).searchParams.get('code') as string;
    const token = await exchange(code, verifier);
    expect(token.access_token).to.match(/^ghu_[A-Za-z0-9]{36}$/);
    expect(token).to.include({ token_type: 'bearer', expires_in: 28800 });
    expect(token.refresh_token).to.match(/^ghr_/);
    const user = await apiRequest(ctx.double, String(token.access_token))('GET /user');
    expect(user.data.login).to.equal('alice');
  });

  it('refuses a wrong verifier, and a missing one, with bad_verification_code', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const code = (await authorize({ challenge: s256(verifier) })).searchParams.get('code') as string;
    expect(await exchange(code, randomBytes(32).toString('base64url'))).to.include({ error: 'bad_verification_code' });
    const other = (await authorize({ challenge: s256(verifier) })).searchParams.get('code') as string;
    expect(await exchange(other)).to.include({
      error: 'bad_verification_code',
      error_description: 'The code passed is incorrect or expired.',
    });
  });

  it('spends a code on first use: the second exchange fails (through @octokit/oauth-methods too)', async () => {
    const code = (await authorize()).searchParams.get('code') as string;
    const first = await exchangeWebFlowCode({
      clientType: 'github-app',
      clientId: ctx.double.app.clientId,
      clientSecret: ctx.double.app.clientSecret,
      code,
      redirectUrl: callback,
      request: apiRequest(ctx.double),
    });
    expect(first.authentication.token).to.match(/^ghu_/);
    let message = '';
    try {
      await exchangeWebFlowCode({
        clientType: 'github-app',
        clientId: ctx.double.app.clientId,
        clientSecret: ctx.double.app.clientSecret,
        code,
        request: apiRequest(ctx.double),
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.include('bad_verification_code');
  });

  it('lets a code expire after 10 minutes', async () => {
    const code = (await authorize()).searchParams.get('code') as string;
    clock += 10 * 60 * 1000 + 1;
    expect(await exchange(code)).to.include({ error: 'bad_verification_code' });
  });

  it('checks the client secret', async () => {
    const code = (await authorize()).searchParams.get('code') as string;
    expect(await exchange(code, undefined, 'wrong')).to.include({ error: 'incorrect_client_credentials' });
  });

  it('answers form-encoded unless asked for JSON, as GitHub does', async () => {
    const code = (await authorize()).searchParams.get('code') as string;
    const res = await fetch(`${ctx.double.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: ctx.double.app.clientId, client_secret: ctx.double.app.clientSecret, code }),
    });
    expect(res.headers.get('content-type')).to.match(/^application\/x-www-form-urlencoded/);
    expect(new URLSearchParams(await res.text()).get('access_token')).to.match(/^ghu_/);
  });

  it('refuses a redirect_uri that is not a registered callback URL', async () => {
    const location = await authorize({ redirect: 'https://evil.example/callback' });
    expect(location.origin + location.pathname).to.equal(callback);
    expect(location.searchParams.get('error')).to.equal('redirect_uri_mismatch');
    expect(location.searchParams.has('code')).to.equal(false);
  });

  it('refreshes a user token once (the refresh token is single-use)', async () => {
    const token = await exchange((await authorize()).searchParams.get('code') as string);
    const options = {
      clientType: 'github-app' as const,
      clientId: ctx.double.app.clientId,
      clientSecret: ctx.double.app.clientSecret,
      refreshToken: String(token.refresh_token),
      request: apiRequest(ctx.double),
    };
    const refreshed = await refreshToken(options);
    expect(refreshed.authentication.token).to.match(/^ghu_/).and.not.equal(token.access_token);
    let failed = false;
    try {
      await refreshToken(options);
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
  });

  it("shows a user the installations of their own organisations only, with their repositories", async () => {
    const alice = await exchange((await authorize({ login: 'alice' })).searchParams.get('code') as string);
    const asAlice = apiRequest(ctx.double, String(alice.access_token));
    const installations = await asAlice('GET /user/installations');
    expect(installations.data.installations.map((i) => i.id)).to.deep.equal([orgInstallation]);
    const repos = await asAlice('GET /user/installations/{installation_id}/repositories', { installation_id: orgInstallation });
    expect(repos.data.repositories.map((r) => r.full_name)).to.deep.equal(['acme/provider', 'acme/consumer']);
    expect((await refusal(asAlice('GET /user/installations/{installation_id}/repositories', { installation_id: otherInstallation }))).status).to.equal(404);

    ctx.double.signInAs('mallory');
    const mallory = await exchange((await authorize()).searchParams.get('code') as string);
    const theirs = await apiRequest(ctx.double, String(mallory.access_token))('GET /user/installations');
    expect(theirs.data.total_count).to.equal(0);
  });

  it('records parameters GitHub does not document', async () => {
    const res = await fetch(`${ctx.double.webUrl}/login/oauth/authorize?client_id=${ctx.double.app.clientId}&redirect_url=${callback}`, {
      redirect: 'manual',
    });
    expect(res.status).to.equal(302);
    expect(ctx.double.takeSchemaErrors()).to.deep.equal([
      { kind: 'invalid-request', endpoint: 'GET /login/oauth/authorize', problems: ['unknown parameter "redirect_url"'] },
    ]);
  });
});
