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
