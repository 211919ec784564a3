/**
 * The provisioning worker as a process (`zekt worker`, and the worker image's entry): the control
 * plane wired from settings, jobs taken from the queue until it is empty (`drain`) or a signal
 * stops it; or, with `dryRun`, only checked (check-provisioning-worker.ts). Nothing here reaches
 * `local/`: the worker image ships without it.
 */
import type { ZektConfig } from '../runtime/config.ts';
import { createLogger } from '../runtime/core/logger.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { checkProvisioningWorker } from './check-provisioning-worker.ts';
import { createControlPlane } from './create-control-plane.ts';
import { runProvisioningWorker } from './drain-provisioning-queue.ts';

export async function runProvisioningWorkerProcess(config: ZektConfig, options: { readonly drain: boolean; readonly dryRun?: boolean }): Promise<void> {
  const log = createLogger({ level: config.logLevel, base: { component: 'provisioning-worker' } });
  const storage = createStorage(config.storage);
  if (options.dryRun) {
    log.info(await checkProvisioningWorker({ config, storage, log }), 'provisioning worker dry run: ready, no job taken');
    return;
  }
  const controlPlane = await createControlPlane({ config, storage, log });
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  log.info({ target: config.controlPlane.target, drain: options.drain }, 'provisioning worker started');
  await runProvisioningWorker({ config, storage, controlPlane, log, drain: options.drain, signal: stop.signal });
}
