/**
 * Jobs on the `provisioning` queue, and where the control plane keeps its records. A job names
 * the request it serves (`requestId`), so a duplicate delivery of the same job is recognised and
 * a job superseded by a newer request is stale. Messages are checked on the way in: a malformed
 * one is refused, never retried.
 */
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { sendJson } from '../runtime/storage/queue-message.ts';

/** Table of the tenant registry (also holds the tenant leases and reconcile runs). */
export const tenantsTableName = 'tenants';
/** Queue the signup endpoint, the CLI and the worker itself (retries) send jobs to. */
export const provisioningQueueName = 'provisioning';

export const provisioningJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('provision'), tenantId: z.string().min(1).max(64), requestId: z.uuid() }),
  z.object({ kind: z.literal('destroy'), tenantId: z.string().min(1).max(64), requestId: z.uuid() }),
  z.object({
    kind: z.literal('reconcile'),
    runId: z.uuid(),
    tenantIds: z.array(z.string().min(1).max(64)).max(1000).optional(),
    /** The timer's runs: only serving tenants (a failed one waits for its owner or an operator). */
    readyOnly: z.boolean().optional(),
  }),
]);

export type ProvisioningJob = z.infer<typeof provisioningJobSchema>;

export class InvalidJobError extends Error {
  override name = 'InvalidJobError';
}

export function parseProvisioningJob(message: unknown): ProvisioningJob {
  const parsed = provisioningJobSchema.safeParse(message);
  if (!parsed.success) throw new InvalidJobError(`not a provisioning job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface JobQueue {
  /** Sends a job; `delaySeconds` keeps it invisible that long (retries with backoff). */
  send(job: ProvisioningJob, delaySeconds?: number): Promise<void>;
}

export function createJobQueue(queue: QueueClient): JobQueue {
  let ensured: Promise<unknown> | undefined;
  return {
    async send(job, delaySeconds) {
      await (ensured ??= queue.createIfNotExists().catch((err: unknown) => {
        ensured = undefined;
        throw err;
      }));
      await sendJson(queue, provisioningJobSchema.parse(job), delaySeconds);
    },
  };
}
