import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { useGitHubDouble } from './support.ts';

describe('GitHub double: Actions OIDC issuer', () => {
  const ctx = useGitHubDouble();
  const audience = 'https://zekt.example.com';

  before(() => {
    ctx.double.addInstallation({ account: 'acme', repositories: ['provider'] });
  });

  async function jwks() {
    const discovery = (await (await fetch(`${ctx.double.oidcIssuer}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
      id_token_signing_alg_values_supported: string[];
    };
    expect(discovery.issuer).to.equal(ctx.double.oidcIssuer);
    expect(discovery.id_token_signing_alg_values_supported).to.deep.equal(['RS256']);
    return createRemoteJWKSet(new URL(discovery.jwks_uri));
  }

  it("issues RS256 tokens verifiable against the issuer's JWKS, with GitHub's claims", async () => {
    const token = await ctx.double.issueOidcToken({ repository: 'acme/provider', audience, runId: 9001, runNumber: 12, runAttempt: 2 });
    const { payload, protectedHeader } = await jwtVerify(token, await jwks(), { issuer: ctx.double.oidcIssuer, audience });
    expect(protectedHeader.alg).to.equal('RS256');
    expect(protectedHeader.kid).to.be.a('string');
    expect(payload).to.include({
      sub: 'repo:acme/provider:ref:refs/heads/main',
      repository: 'acme/provider',
      repository_owner: 'acme',
      run_id: '9001',
      run_number: '12',
      run_attempt: '2',
      workflow: 'CI',
      workflow_ref: 'acme/provider/.github/workflows/ci.yml@refs/heads/main',
      job_workflow_ref: 'acme/provider/.github/workflows/ci.yml@refs/heads/main',
      ref: 'refs/heads/main',
      event_name: 'push',
      actor: 'acme',
    });
    // Ids are strings in GitHub's tokens.
    expect(payload.repository_id).to.match(/^\d+$/);
    expect(payload.repository_owner_id).to.match(/^\d+$/);
    expect(payload.sha).to.match(/^[0-9a-f]{40}$/);
    expect(payload.jti).to.be.a('string');
    for (const claim of ['iat', 'nbf', 'exp'] as const) expect(payload[claim]).to.be.a('number');
    expect((payload.exp as number) - (payload.iat as number)).to.be.within(60, 3600);
  });

  it('uses the environment subject when the job has an environment', async () => {
    const token = await ctx.double.issueOidcToken({ repository: 'acme/provider', audience, runId: 1, environment: 'prod' });
    const { payload } = await jwtVerify(token, await jwks(), { audience });
    expect(payload.sub).to.equal('repo:acme/provider:environment:prod');
    expect(payload.environment).to.equal('prod');
  });

  it('is refused by a verifier expecting another audience or issuer', async () => {
    const token = await ctx.double.issueOidcToken({ repository: 'acme/provider', audience: 'someone-else', runId: 1 });
    let error: unknown;
    try {
      await jwtVerify(token, await jwks(), { audience });
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).to.equal('ERR_JWT_CLAIM_VALIDATION_FAILED');
    error = undefined;
    try {
      await jwtVerify(await ctx.double.issueOidcToken({ repository: 'acme/provider', audience, runId: 1 }), await jwks(), {
        issuer: 'https://token.actions.githubusercontent.com',
      });
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code).to.equal('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('keeps old keys in the JWKS after a rotation, and signs with the new one', async () => {
    const before = await ctx.double.issueOidcToken({ repository: 'acme/provider', audience, runId: 1 });
    await ctx.double.rotateOidcKey();
    const after = await ctx.double.issueOidcToken({ repository: 'acme/provider', audience, runId: 1 });
    expect(decodeProtectedHeader(after).kid).to.not.equal(decodeProtectedHeader(before).kid);
    const keys = await jwks();
    await jwtVerify(before, keys, { audience });
    await jwtVerify(after, keys, { audience });
  });

  it('refuses to issue a token for a repository it does not know', async () => {
    let error: unknown;
    try {
      await ctx.double.issueOidcToken({ repository: 'nobody/nothing', audience, runId: 1 });
    } catch (err) {
      error = err;
    }
    expect((error as Error).name).to.equal('UnknownEntityError');
  });
});
