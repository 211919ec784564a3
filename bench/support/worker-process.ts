/**
 * A provisioning worker in a process of its own, for the fault bench that kills one mid-`up`: the
 * worker of `zekt worker` (queue semantics of automation/drain-provisioning-queue.ts) against the
 * bench's storage and resource manager. Inputs come on stdin — never a file or the environment;
 * prints `started` once it polls, and runs until killed.
 */
import { loadConfig } from '../../runtime/config.ts';
import { createLogger } from '../../runtime/core/logger.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { createControlPlane } from '../../automation/create-control-plane.ts';
import { runProvisioningWorker } from '../../automation/drain-provisioning-queue.ts';

interface WorkerInput {
  readonly settings: Record<string, string>;
  readonly managerUrl: string;
  readonly managerToken: string;
  readonly platformVaultName: string;
  readonly passphrase: string;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WorkerInput;
const config = loadConfig(input.settings);
const storage = createStorage(config.storage);
const log = createLogger({ level: 'warn' });
const controlPlane = await createControlPlane({
  config,
  storage,
  log,
  local: { managerUrl: input.managerUrl, managerToken: input.managerToken, platformVaultName: input.platformVaultName },
  passphrase: input.passphrase,
});
process.stdout.write('started\n');
await runProvisioningWorker({ config, storage, controlPlane, log, drain: false, signal: new AbortController().signal });
