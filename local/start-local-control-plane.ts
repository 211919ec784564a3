/**
 * The control plane on this machine: the local resource manager (the local target's compartments
 * live there, along with the platform's local vault), the Pulumi passphrase read from that vault,
 * and the control plane wired on the platform's storage. `npm start` and the tests start it; the
 * returned `provisioning` handler goes into the platform's function table.
 */
import path from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import type { ZektConfig } from '../runtime/config.ts';
import type { Logger } from '../runtime/core/logger.ts';
import type { Storage } from '../runtime/storage/create-storage.ts';
import { createLocalIdentityCredential } from '../runtime/core/local-identity.ts';
import { createControlPlane, type ControlPlane, type ControlPlaneOptions } from '../automation/create-control-plane.ts';
import { readOrCreatePulumiPassphrase } from '../automation/pulumi-passphrase.ts';
import { startResourceManager, type ResourceManager } from './resource-manager/start-resource-manager.ts';
import { writePlatformDiscovery } from './platform-discovery.ts';

export interface LocalControlPlaneOptions {
  readonly config: ZektConfig;
  readonly storage: Storage;
  readonly log: Logger;
  /** Resource manager port; the configured one (`ZEKT_RESOURCE_MANAGER_PORT`) by default. */
  readonly managerPort?: number;
  /** Extra control-plane options (tests: a lease holder, timings). */
  readonly overrides?: Partial<Pick<ControlPlaneOptions, 'holder' | 'onTimings' | 'lockRetryDelaysMs' | 'programFor'>>;
}

export interface LocalControlPlane extends ControlPlane {
  readonly manager: ResourceManager;
  /** A Key Vault client on the platform's local vault, with the platform identity. */
  readonly platformVault: SecretClient;
  stop(): Promise<void>;
}

/** Client options for a local vault: trust its certificate; its host is not a vault subdomain. */
export function localVaultClientOptions(caCert: string) {
  return { tlsOptions: { ca: caCert }, disableChallengeResourceVerification: true };
}

export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const manager = await startResourceManager({
    stateDir: path.resolve(options.config.controlPlane.stateDir),
    host: options.config.host,
    port: options.managerPort ?? options.config.controlPlane.resourceManagerPort,
    log: options.log.child({ component: 'resource-manager' }),
  });
  try {
    const platformVault = new SecretClient(
      manager.platform.vaultUrl,
      createLocalIdentityCredential(manager.platform.identity),
      localVaultClientOptions(manager.caCert),
    );
    const passphrase = await readOrCreatePulumiPassphrase(platformVault);
    const controlPlane = await createControlPlane({
      config: options.config,
      storage: options.storage,
      log: options.log.child({ component: 'control-plane' }),
      local: { managerUrl: manager.url, managerToken: manager.adminToken, platformVaultName: manager.platform.vaultName },
      passphrase,
      ...options.overrides,
    });
    // The operator CLI finds the registry and queue through this (endpoints only, no key).
    const forget =
      options.config.storage.kind === 'connection-string'
        ? await writePlatformDiscovery(options.config.controlPlane.stateDir, options.config.storage.connectionString, manager.url)
        : async () => undefined;
    return {
      ...controlPlane,
      manager,
      platformVault,
      async stop() {
        await forget();
        await manager.stop();
      },
    };
  } catch (err) {
    await manager.stop();
    throw err;
  }
}
