import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { entraTokenVerifier } from '../../runtime/identity/caller-authenticator.ts';

/**
 * The Azure side of the broker's caller check: a managed identity's Entra ID token, verified
 * against the directory's JWKS for issuer, audience and signature. Entra is played by a local
 * JWKS server (the verifier's authority host is a parameter).
 */
describe("token broker: Entra ID tokens of a tenant's managed identity", () => {
  const directory = '3f1b9a2e-1c4d-4e5f-8a6b-7c8d9e0f1a2b';
  const audience = 'api://zekt-broker';
  let server: http.Server;
  let authority: string;
  let sign: (claims: Record<string, unknown>, options?: { issuer?: string; audience?: string; expiresIn?: string }) => Promise<string>;
  let foreignSign: typeof sign;

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const foreign = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = http.createServer((req, res) => {
      if (req.url === `/${directory}/discovery/v2.0/keys`) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    authority = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const make = (key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']) => (claims: Record<string, unknown>, o: { issuer?: string; audience?: string; expiresIn?: string } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(o.issuer ?? `${authority}/${directory}/v2.0`)
        .setAudience(o.audience ?? audience)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? '1h')
        .sign(key);
    sign = make(privateKey);
    foreignSign = make(foreign.privateKey);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const clientId = '8d0c6f1a-2b3c-4d5e-9f60-718293a4b5c6';
  const callerClientId = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
  const verifier = () => entraTokenVerifier({ entraTenantId: directory, audience, clientId, authorityHost: authority, v1IssuerHost: authority });

  it('accepts a v1 token (sts issuer, audience URI, appid) as a managed identity gets by default', async () => {
    const v1 = { ver: '1.0', oid: 'principal-of-acme', appid: callerClientId, idtyp: 'app' };
    expect(await verifier()(await sign(v1, { issuer: `${authority}/${directory}/`, audience }))).to.equal('principal-of-acme');
  });

  it("accepts a v2 token (v2.0 issuer, the application's client id as audience, azp)", async () => {
    const v2 = { ver: '2.0', oid: 'principal-of-acme', azp: callerClientId, azpacr: '2', idtyp: 'app' };
    expect(await verifier()(await sign(v2, { issuer: `${authority}/${directory}/v2.0`, audience: clientId }))).to.equal('principal-of-acme');
  });

  it("falls back to the caller's client id (appid for v1, azp for v2) when a token has no oid", async () => {
    expect(await verifier()(await sign({ ver: '1.0', appid: callerClientId }, { issuer: `${authority}/${directory}/` }))).to.equal(callerClientId);
    expect(await verifier()(await sign({ ver: '2.0', azp: callerClientId }, { audience: clientId }))).to.equal(callerClientId);
    // Each shape keeps its own claim: a v2 token naming its caller only in `appid` names nobody.
    expect(await verifier()(await sign({ ver: '2.0', appid: callerClientId }, { audience: clientId }))).to.equal(undefined);
  });

  it('refuses a v1 issuer of another directory and a v2 audience of another application', async () => {
    expect(await verifier()(await sign({ ver: '1.0', oid: 'x' }, { issuer: `${authority}/other-directory/` }))).to.equal(undefined);
    expect(await verifier()(await sign({ ver: '2.0', oid: 'x' }, { audience: callerClientId }))).to.equal(undefined);
  });

  it("returns the identity's object id for a valid token", async () => {
    const verify = entraTokenVerifier({ entraTenantId: directory, audience, authorityHost: authority });
    expect(await verify(await sign({ oid: 'principal-of-acme' }))).to.equal('principal-of-acme');
  });

  it('refuses another audience, another issuer, an expired token and another key', async () => {
    const verify = entraTokenVerifier({ entraTenantId: directory, audience, authorityHost: authority });
    expect(await verify(await sign({ oid: 'x' }, { audience: 'https://vault.azure.net' }))).to.equal(undefined);
    expect(await verify(await sign({ oid: 'x' }, { issuer: `${authority}/other/v2.0` }))).to.equal(undefined);
    expect(await verify(await sign({ oid: 'x' }, { expiresIn: '-1m' }))).to.equal(undefined);
    expect(await verify(await foreignSign({ oid: 'x' }))).to.equal(undefined);
    expect(await verify('not-a-jwt')).to.equal(undefined);
  });
});
