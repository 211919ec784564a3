/**
 * The operator CLI's read of the local platform vault: found through the running platform's
 * discovery file and the resource manager's state, answering what the platform wrote there
 * (a tenant's forward secret), and a clear error when no platform runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SecretClient } from '@azure/keyvault-secrets';
import { startResourceManager, type ResourceManager } from '../../local/resource-manager/start-resource-manager.ts';
import { localVaultClientOptions } from '../../local/start-local-control-plane.ts';
import { PlatformUnavailableError, writePlatformDiscovery } from '../../local/platform-discovery.ts';
import { discoverPlatformVault } from '../../local/platform-vault-discovery.ts';
import { createLocalIdentityCredential } from '../../runtime/core/local-identity.ts';
import { platformSecretNames } from '../../runtime/core/secret-store.ts';
import { memoryLogger } from '../support/logs.ts';

describe('local platform vault discovery (operator CLI)', function () {
  this.timeout(30_000);
  let stateDir: string;
  let manager: ResourceManager;

  before(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-discovery-'));
    manager = await startResourceManager({ stateDir, log: memoryLogger().log });
  });
  after(async () => {
    await manager?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('refuses with PlatformUnavailableError while no platform has written its discovery file', async () => {
    const error = await discoverPlatformVault(stateDir).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(PlatformUnavailableError);
    expect((error as Error).message).to.match(/npm start/);
  });

  it("reads a tenant's forward secret from the running platform's vault", async () => {
    await writePlatformDiscovery(stateDir, 'AccountName=devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1', manager.url);
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const platformVault = new SecretClient(manager.platform.vaultUrl, createLocalIdentityCredential(manager.platform.identity), localVaultClientOptions(manager.caCert));
    await platformVault.setSecret(platformSecretNames.tenantForwardSecret('acme'), secret);
    const vault = await discoverPlatformVault(stateDir);
    expect(await vault.get(platformSecretNames.tenantForwardSecret('acme'))).to.equal(secret);
    expect(await vault.get(platformSecretNames.tenantForwardSecret('globex'))).to.equal(undefined);
  });
});
