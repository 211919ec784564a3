/**
 * A control plane for one test file: its own in-memory Azurite (the registry's table and the
 * provisioning queue), its own state dir (Pulumi state, work directories, the resource manager's
 * encrypted state and the tenants' data) and its own resource manager on a free port. `stop()`
 * ends every process it started and removes the state dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AzuriteInstance } from '../../../local/azurite/start-azurite.ts';
import { isolatedAzurite } from '../../support/azurite.ts';
import { loadConfig, loadEngineConfig, type ZektConfig } from '../../../runtime/config.ts';
import { createStorage, type Storage } from '../../../runtime/storage/create-storage.ts';
import { startLocalControlPlane, type LocalControlPlane, type LocalControlPlaneOptions } from '../../../local/start-local-control-plane.ts';
import { memoryLogger } from '../../support/logs.ts';

export interface ControlPlaneFixture {
  readonly controlPlane: LocalControlPlane;
  readonly config: ZektConfig;
  readonly storage: Storage;
  readonly azurite: AzuriteInstance;
  readonly stateDir: string;
  readonly logs: ReturnType<typeof memoryLogger>;
  stop(): Promise<void>;
}

export async function startControlPlaneFixture(
  settings: Record<string, string> = {},
  overrides?: LocalControlPlaneOptions['overrides'],
): Promise<ControlPlaneFixture> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-control-plane-'));
  const azurite = await isolatedAzurite();
  try {
    const config = loadConfig({
      ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(),
      ZEKT_STATE_DIR: stateDir,
      ZEKT_TENANT_LEASE_SECONDS: '5',
      ZEKT_PROVISIONING_RETRY_SCHEDULE: '1',
      ZEKT_LOG_LEVEL: 'warn',
      ...settings,
    });
    const storage = createStorage(config.storage);
    // The engine's cache and PATH are this machine's.
    const logs = memoryLogger('info');
    const controlPlane = await startLocalControlPlane({ config: { ...config, engine: loadEngineConfig(process.env) }, storage, log: logs.log, managerPort: 0, ...(overrides ? { overrides } : {}) });
    return {
      controlPlane,
      config,
      storage,
      azurite,
      stateDir,
      logs,
      async stop() {
        await controlPlane.stop();
        await azurite.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await azurite.stop();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
}
