/**
 * The provisioning worker as a process of its own (`zekt worker`): takes jobs from the
 * provisioning queue with the local host's queue semantics (visibility timeout while a job runs,
 * a poison queue after five failed dequeues), runs them with the configured parallelism, and —
 * with `drain` — exits once every visible job is handled. That is the entry of an event-driven
 * job (the platform's Container Apps job, started when the queue has messages); under
 * `npm start` the same worker is a queue function of the platform host instead.
 */
import type { ZektConfig } from '../runtime/config.ts';
import type { Logger } from '../runtime/core/logger.ts';
import type { Storage } from '../runtime/storage/create-storage.ts';
import { pollQueue } from '../runtime/local-host/poll-queue.ts';
import type { ControlPlane } from './create-control-plane.ts';
import { provisioningQueueName } from './provisioning-jobs.ts';

export interface RunWorkerOptions {
  readonly config: ZektConfig;
  readonly storage: Storage;
  readonly controlPlane: Pick<ControlPlane, 'worker'>;
  readonly log: Logger;
  /** Stop once the queue has no visible job; otherwise run until `signal` aborts. */
  readonly drain: boolean;
  readonly signal?: AbortSignal;
}

export async function runProvisioningWorker(options: RunWorkerOptions): Promise<void> {
  const { config, storage, log } = options;
  const poller = pollQueue(
    { kind: 'queue', name: 'provisioning', queueName: provisioningQueueName, handler: options.controlPlane.worker.handle },
    storage.queue(provisioningQueueName),
    storage.queue(`${provisioningQueueName}-poison`),
    log,
    {
      batchSize: config.controlPlane.parallelism,
      // A job stays invisible for as long as its stack operation may run, plus a margin.
      visibilityTimeoutSeconds: Math.ceil(config.controlPlane.operationTimeoutSeconds) + 120,
    },
  );
  if (options.drain) {
    await poller.drain();
  } else {
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) return resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  await poller.stop();
  log.info({ drained: options.drain }, 'provisioning worker stopped');
}
