import https from 'node:https';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SecretClient } from '@azure/keyvault-secrets';
import { startResourceManager, type ResourceManager } from '../../local/resource-manager/start-resource-manager.ts';
import { localVaultClientOptions } from '../../local/start-local-control-plane.ts';
import { createLocalIdentityCredential, type LocalIdentity } from '../../runtime/core/local-identity.ts';
import { memoryLogger } from '../support/logs.ts';

function raw(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local vault: the Key Vault subset through @azure/keyvault-secrets', function () {
  this.timeout(60_000);
  let stateDir: string;
  let manager: ResourceManager;
  let vaultUri: string;
  let reader: LocalIdentity;
  let stranger: LocalIdentity;
  const client = (identity: LocalIdentity, uri = vaultUri) =>
    new SecretClient(uri, createLocalIdentityCredential(identity), { ...localVaultClientOptions(manager.caCert), retryOptions: { maxRetries: 0 } });

  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-vault-'));
    manager = await startResourceManager({ stateDir, log: memoryLogger().log });
    const a = await manager.resources.putIdentity('id-zekt-acme', { tenantId: 'acme' });
    const b = await manager.resources.putIdentity('id-zekt-globex', { tenantId: 'globex' });
    reader = { clientId: a.clientId, secret: a.clientSecret };
    stranger = { clientId: b.clientId, secret: b.clientSecret };
    vaultUri = (await manager.resources.putVault('kvacme-000000000001', { tenantId: 'acme', readers: [a.clientId] })).vaultUri;
  });
  after(async () => {
    await manager?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('answers an unauthenticated request with the 401 bearer challenge the SDK expects', async () => {
    const res = await raw(`${vaultUri}/secrets/anything?api-version=7.5`, manager.caCert);
    expect(res.status).to.equal(401);
    expect(res.headers['www-authenticate']).to.match(/^Bearer authorization="https:\/\/[^"]+", resource="https:\/\/vault\.azure\.net"$/);
    expect(JSON.parse(res.body)).to.have.nested.property('error.code', 'Unauthorized');
    const forged = await raw(`${vaultUri}/secrets/anything`, manager.caCert, { authorization: 'Bearer zekt-local.e30.AAAA' });
    expect(forged.status).to.equal(401);
  });

  it('sets, gets, lists, versions and deletes secrets', async () => {
    const vault = client(reader);
    const first = await vault.setSecret('forward-signing-secret', 'one');
    const second = await vault.setSecret('forward-signing-secret', 'two', { contentType: 'text/plain' });
    await vault.setSecret('message-encryption-key', 'k');
    expect(first.properties.version).to.match(/^[0-9a-f]{32}$/);
    expect(second.properties.vaultUrl).to.equal(vaultUri);
    expect((await vault.getSecret('forward-signing-secret')).value).to.equal('two');
    expect((await vault.getSecret('forward-signing-secret', { version: first.properties.version as string })).value).to.equal('one');

    const names: string[] = [];
    for await (const props of vault.listPropertiesOfSecrets()) names.push(props.name);
    expect(names.sort()).to.deep.equal(['forward-signing-secret', 'message-encryption-key']);
    const versions: string[] = [];
    for await (const props of vault.listPropertiesOfSecretVersions('forward-signing-secret')) versions.push(props.version as string);
    expect(versions).to.have.members([first.properties.version, second.properties.version]);

    const poller = await vault.beginDeleteSecret('message-encryption-key');
    await poller.pollUntilDone();
    let status: number | undefined;
    await vault.getSecret('message-encryption-key').catch((err: { statusCode?: number; code?: string }) => {
      status = err.statusCode;
      expect(err.code).to.equal('SecretNotFound');
    });
    expect(status).to.equal(404);
  });

  it('accepts only its readers: another identity gets 403', async () => {
    let status: number | undefined;
    await client(stranger)
      .getSecret('forward-signing-secret')
      .catch((err: { statusCode?: number }) => (status = err.statusCode));
    expect(status).to.equal(403);
  });

  it('keeps values encrypted at rest, under a master key only the user can read', async () => {
    await client(reader).setSecret('at-rest-check', 'plain-value-that-must-not-hit-disk');
    const state = await readFile(path.join(stateDir, 'resource-manager', 'state.json.enc'), 'utf8');
    expect(state).to.not.include('plain-value-that-must-not-hit-disk');
    expect(state).to.not.include(reader.secret);
    const key = await stat(path.join(stateDir, 'resource-manager', 'master.key'));
    expect(key.mode & 0o077, 'no group or other access').to.equal(0);
  });

  it('comes back after a restart at the same URL with the same secrets', async () => {
    await manager.stop();
    manager = await startResourceManager({ stateDir, log: memoryLogger().log });
    expect(manager.resources.getVault('kvacme-000000000001')?.vaultUri).to.equal(vaultUri);
    expect((await client(reader).getSecret('forward-signing-secret')).value).to.equal('two');
  });

  it('stops accepting an identity once it is deleted', async () => {
    await manager.resources.deleteIdentity('id-zekt-acme');
    let status: number | undefined;
    await client(reader)
      .getSecret('forward-signing-secret')
      .catch((err: { statusCode?: number }) => (status = err.statusCode));
    expect(status).to.equal(401);
  });
});
