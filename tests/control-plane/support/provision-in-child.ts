/**
 * A provisioning worker in a process of its own, for the test that kills one mid-`up`. It reads
 * its inputs (settings, the resource manager's URL and token, the passphrase, the job) from stdin
 * — never from a file or its environment — runs the job, and prints the outcome.
 */
import { loadConfig, loadEngineConfig } from '../../../runtime/config.ts';
import { createLogger } from '../../../runtime/core/logger.ts';
import { createStorage } from '../../../runtime/storage/create-storage.ts';
import { createControlPlane } from '../../../automation/create-control-plane.ts';
import type { ProvisioningJob } from '../../../automation/provisioning-jobs.ts';

interface ChildInput {
  readonly settings: Record<string, string>;
  readonly managerUrl: string;
  readonly managerToken: string;
  readonly platformVaultName: string;
  readonly passphrase: string;
  readonly job: ProvisioningJob;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildInput;
// The engine's cache and PATH are this machine's; every Zekt setting comes from the parent.
const config = { ...loadConfig(input.settings), engine: loadEngineConfig(process.env) };
const controlPlane = await createControlPlane({
  config,
  storage: createStorage(config.storage),
  log: createLogger({ level: 'warn' }),
  local: { managerUrl: input.managerUrl, managerToken: input.managerToken, platformVaultName: input.platformVaultName },
  passphrase: input.passphrase,
});
process.stdout.write('started\n');
const outcome = await controlPlane.worker.run(input.job);
process.stdout.write(`outcome ${outcome}\n`);
