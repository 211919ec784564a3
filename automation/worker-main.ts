/**
 * Entry of the provisioning worker image (`automation/Dockerfile`; the platform's Container Apps
 * job runs `--drain` once per queue trigger). Settings come from the job's environment.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../runtime/config.ts';
import { runProvisioningWorkerProcess } from './run-provisioning-worker.ts';

const program = new Command('zekt-provisioner')
  .description('Zekt provisioning worker: runs tenant stack operations from the provisioning queue')
  .option('--drain', 'exit once the queue has no visible job')
  .option('--dry-run', 'check the settings, the Pulumi engine, the tenant app package and the queue; take no job')
  .exitOverride()
  .action(async (opts: { drain?: boolean; dryRun?: boolean }) => {
    await runProvisioningWorkerProcess(loadConfig(process.env), { drain: Boolean(opts.drain), dryRun: Boolean(opts.dryRun) });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // --help ends through here with exit code 0; a usage error with 2.
  process.exitCode = err.exitCode === 0 ? 0 : 2;
}
