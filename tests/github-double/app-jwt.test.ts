import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { apiRequest, appAuth, refusal, useGitHubDouble } from './support.ts';

/** A JWT like an App would make, with the claims a test wants to break. */
async function jwt(claims: { iss?: string | number; iat?: number; exp?: number }, pem: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...(claims.iss === undefined ? {} : { iss: claims.iss as string }) })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuedAt(claims.iat ?? now - 60)
    .setExpirationTime(claims.exp ?? now + 9 * 60)
    .sign(createPrivateKey(pem));
}

describe('GitHub double: App JWT authentication', () => {
  const ctx = useGitHubDouble();
  const now = () => Math.floor(Date.now() / 1000);
  const getApp = (token: string) => apiRequest(ctx.double)('GET /app', { headers: { authorization: `Bearer ${token}` } });

  it('accepts the JWT @octokit/auth-app makes, and names the App', async () => {
    const { token } = await appAuth(ctx.double)({ type: 'app' });
    const response = await getApp(token);
    expect(response.status).to.equal(200);
    expect(response.data).to.include({ id: ctx.double.app.id, slug: ctx.double.app.slug, client_id: ctx.double.app.clientId });
    // auth-app corrects clock skew from this header.
    expect(response.headers.date).to.be.a('string');
  });

  it("accepts GitHub's own recipe: iat back-dated 60 s, exp 10 minutes ahead, client id as issuer", async () => {
    const token = await jwt({ iss: ctx.double.app.clientId, iat: now() - 60, exp: now() + 600 }, ctx.double.app.privateKey);
    expect((await getApp(token)).status).to.equal(200);
  });

  it('refuses an expired JWT with GitHub\'s message', async () => {
    const token = await jwt({ iss: ctx.double.app.id, iat: now() - 700, exp: now() - 100 }, ctx.double.app.privateKey);
    const { status, data } = await refusal(getApp(token));
    expect(status).to.equal(401);
    expect(data.message).to.equal(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
  });

  it('refuses an exp more than 10 minutes ahead', async () => {
    const token = await jwt({ iss: ctx.double.app.id, iat: now(), exp: now() + 11 * 60 }, ctx.double.app.privateKey);
    const { status, data } = await refusal(getApp(token));
    expect(status).to.equal(401);
    expect(data.message).to.equal("'Expiration time' claim ('exp') is too far in the future");
  });

  it('refuses an exp more than 10 minutes (plus the 60 s allowance) after iat', async () => {
    const token = await jwt({ iss: ctx.double.app.id, iat: now() - 120, exp: now() + 590 }, ctx.double.app.privateKey);
    expect((await refusal(getApp(token))).status).to.equal(401);
  });

  it('refuses an iat in the future', async () => {
    const token = await jwt({ iss: ctx.double.app.id, iat: now() + 120, exp: now() + 300 }, ctx.double.app.privateKey);
    const { status, data } = await refusal(getApp(token));
    expect(status).to.equal(401);
    expect(data.message).to.match(/'Issued at' claim \('iat'\)/);
  });

  it('refuses a JWT signed with another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const token = await jwt({ iss: ctx.double.app.id }, other);
    const { status, data } = await refusal(getApp(token));
    expect(status).to.equal(401);
    expect(data.message).to.equal('A JSON web token could not be decoded');
  });

  it('refuses a wrong issuer: an unknown App id, a name, or none', async () => {
    for (const iss of [ctx.double.app.id + 1000, 'not-an-app', undefined]) {
      const token = await jwt({ ...(iss === undefined ? {} : { iss }) }, ctx.double.app.privateKey);
      expect((await refusal(getApp(token))).status, `iss ${String(iss)}`).to.equal(401);
    }
  });

  it("refuses another App's JWT on this App's installation (404, as GitHub hides it)", async () => {
    const installation = ctx.double.addInstallation({ account: 'jwt-org', repositories: ['r'] });
    const other = await ctx.double.addApp({ slug: 'other-app' });
    const { status } = await refusal(appAuth(ctx.double, other)({ type: 'installation', installationId: installation.id }));
    expect(status).to.equal(404);
  });

  it('reads a non-JWT credential on an App endpoint as an undecodable JWT', async () => {
    const installation = ctx.double.addInstallation({ account: 'jwt-org-2', repositories: ['r'] });
    const { token } = await appAuth(ctx.double)({ type: 'installation', installationId: installation.id });
    const { status, data } = await refusal(apiRequest(ctx.double, token)('GET /app'));
    expect(status).to.equal(401);
    expect(data.message).to.equal('A JSON web token could not be decoded');
  });

  it('answers 401 Requires authentication without credentials, and Bad credentials for an unknown token', async () => {
    expect((await refusal(apiRequest(ctx.double)('GET /app'))).status).to.equal(401);
    const { status, data } = await refusal(apiRequest(ctx.double, 'ghs_' + 'x'.repeat(36))('GET /installation/repositories'));
    expect(status).to.equal(401);
    expect(data.message).to.equal('Bad credentials');
  });
});
