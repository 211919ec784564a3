/**
 * Puts a GitHub App's secrets (webhook secret, private key, OAuth client secret) into the local
 * platform vault, for `zekt app create`: the local resource manager that serves the vault is
 * started on a free port against the state folder, written to and stopped. The running platform
 * owns that state, so this refuses while `npm start` runs.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { createLocalIdentityCredential } from '../runtime/core/local-identity.ts';
import type { Logger } from '../runtime/core/logger.ts';
import { discoverPlatformStorage, PlatformUnavailableError } from './platform-discovery.ts';
import { startResourceManager } from './resource-manager/start-resource-manager.ts';
import { localVaultClientOptions } from './start-local-control-plane.ts';
import { seedPlatformVault } from './seed-platform-vault.ts';
import type { RegisteredGitHubApp } from './register-github-app.ts';

/** The local platform is running and owns the vault's state. */
export class LocalPlatformRunningError extends Error {
  override name = 'LocalPlatformRunningError';
}

export async function storeGitHubAppInLocalVault(options: { readonly stateDir: string; readonly host?: string; readonly log: Logger }, app: RegisteredGitHubApp): Promise<void> {
  const running = await discoverPlatformStorage(options.stateDir).then(
    () => true,
    (err: unknown) => (err instanceof PlatformUnavailableError ? false : Promise.reject(err)),
  );
  if (running) throw new LocalPlatformRunningError('the local platform is running: stop `npm start` first, it keeps the vault open');
  const manager = await startResourceManager({ stateDir: options.stateDir, host: options.host ?? '127.0.0.1', port: 0, log: options.log });
  try {
    const vault = new SecretClient(manager.platform.vaultUrl, createLocalIdentityCredential(manager.platform.identity), localVaultClientOptions(manager.caCert));
    await seedPlatformVault(vault, app);
  } finally {
    await manager.stop();
  }
}
