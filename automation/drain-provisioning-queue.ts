/**
 * The provisioning worker as a one-shot process: takes every job visible on the provisioning queue
 * with the local host's queue semantics (visibility timeout while a job runs, a poison queue after
 * five failed dequeues), runs them with the configured parallelism, and exits once the queue is
 * empty. This is the entry of an event-driven job (the platform's Container Apps job, which starts
 * when the queue has messages); under `npm start` the same worker is a queue function instead.
 *
 *   node dist/automation/drain-provisioning-queue.js     (settings from the environment)
 */
import { loadConfig } from '../runtime/config.ts';
import { createLogger } from '../runtime/core/logger.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { pollQueue } from '../runtime/local-host/poll-queue.ts';
import { createControlPlane } from './create-control-plane.ts';
import { provisioningQueueName } from './provisioning-jobs.ts';

const config = loadConfig(process.env);
const log = createLogger({ level: config.logLevel, base: { component: 'provisioning-job' } });
const storage = createStorage(config.storage);
const controlPlane = await createControlPlane({ config, storage, log, env: process.env });
const poller = pollQueue(
  { kind: 'queue', name: 'provisioning', queueName: provisioningQueueName, handler: controlPlane.worker.handle },
  storage.queue(provisioningQueueName),
  storage.queue(`${provisioningQueueName}-poison`),
  log,
  {
    batchSize: config.controlPlane.parallelism,
    // A job stays invisible for as long as its stack operation may run, plus a margin.
    visibilityTimeoutSeconds: Math.ceil(config.controlPlane.operationTimeoutSeconds) + 120,
  },
);
await poller.drain();
await poller.stop();
log.info('provisioning queue drained');
