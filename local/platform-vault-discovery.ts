/**
 * How the operator CLI reads the local platform's vault — the stand-in for an operator's own
 * Key Vault access on Azure. The running platform's resource manager serves the vault; its
 * address, the platform identity the vault accepts and the vault's certificate are in the
 * manager's encrypted state under the state dir, readable by the user who runs the platform (the
 * control plane reads the same state). Nothing is created or written here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createKeyVaultSecretStore, type SecretStore } from '../runtime/core/secret-store.ts';
import { createLocalIdentityCredential } from '../runtime/core/local-identity.ts';
import { encryptedFile } from './resource-manager/encrypted-file.ts';
import type { ResourceManagerState } from './resource-manager/resource-manager-state.ts';
import { platformIdentityName, platformVaultName } from './resource-manager/start-resource-manager.ts';
import { localVaultClientOptions } from './start-local-control-plane.ts';
import { PlatformUnavailableError, readPlatformDiscovery } from './platform-discovery.ts';

export async function discoverPlatformVault(stateDir: string): Promise<SecretStore> {
  const discovery = await readPlatformDiscovery(stateDir);
  const dir = path.join(path.resolve(stateDir), 'resource-manager');
  let state: ResourceManagerState | undefined;
  try {
    const key = Buffer.from((await readFile(path.join(dir, 'master.key'), 'utf8')).trim(), 'base64');
    state = await encryptedFile<ResourceManagerState>(path.join(dir, 'state.json.enc'), key).load();
  } catch (err) {
    throw new PlatformUnavailableError(`the local platform's vault cannot be read under ${dir}`, { cause: err });
  }
  const identity = state?.identities[platformIdentityName];
  const vault = state?.vaults[platformVaultName];
  if (!state?.tls || !identity || !vault) throw new PlatformUnavailableError('the local platform has no vault (is its control plane the local target?)');
  const host = new URL(discovery.resourceManagerUrl).hostname;
  return createKeyVaultSecretStore({
    vaultUrl: `https://${host}:${vault.port}`,
    credential: createLocalIdentityCredential({ clientId: identity.clientId, secret: identity.secret }),
    clientOptions: localVaultClientOptions(state.tls.cert),
  });
}
