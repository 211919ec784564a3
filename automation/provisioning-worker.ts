/**
 * The provisioning worker: the handler of the platform's `provisioning` queue function. Delivery
 * is at-least-once, so every job is idempotent:
 * - the registry decides whether a job is still wanted (unknown, deleted or superseded → refused
 *   or skipped; already completed → skipped);
 * - a lease per tenant keeps one stack to one operation: a duplicate of the job a live holder is
 *   running is dropped (that holder's own message stays on the queue until it finishes), any other
 *   job for a busy tenant is sent again later;
 * - stack operations run with bounded parallelism (`ZEKT_PROVISIONING_PARALLELISM`);
 * - a failed attempt is retried per `ZEKT_PROVISIONING_RETRY_SCHEDULE` (a delayed copy of the job),
 *   then the tenant ends `failed` with the error and its cause.
 */
import type { InvocationContext } from '@azure/functions';
import pLimit from 'p-limit';
import type { Logger } from '../runtime/core/logger.ts';
import { InvalidTenantIdError, assertTenantId } from '../tenant-stack/tenant-id.ts';
import type { TenantStackOutputs } from '../tenant-stack/tenant-outputs.ts';
import { InvalidJobError, parseProvisioningJob, type JobQueue, type ProvisioningJob } from './provisioning-jobs.ts';
import { OutputsContractError, provisionTenant, type TenantStackDeps } from './provision-tenant.ts';
import { destroyTenant } from './destroy-tenant.ts';
import { reconcileTenant, reconcileTenants, type TenantReconcileResult } from './reconcile-tenants.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';
import { StackMissingError } from './stack-workspace.ts';
import { LeaseHeldError, type TenantLease, type TenantLeases } from './tenant-lease.ts';
import { recordError, type TenantProgress, type TenantRecord, type TenantRegistry } from './tenant-registry.ts';

/** A job for a tenant that is deleted (or being deleted): never run. */
export class TenantDeletedError extends Error {
  override name = 'TenantDeletedError';
}

/** What became of one job (logged; tests assert it). */
export type JobOutcome =
  | 'done'
  | 'failed'
  | 'retry-scheduled'
  | 'requeued'
  | 'duplicate'
  | 'stale'
  | 'refused';

/** Control-plane overhead of one provisioning, in ms since epoch. */
export interface ProvisioningTimings {
  readonly tenantId: string;
  readonly jobTakenAt: number;
  readonly upStartedAt: number;
  /** The engine's summary event: its work is done. */
  readonly upFinishedAt: number;
  /** `stack.up()` returned (after the Automation API has read the outputs and history). */
  readonly upReturnedAt: number;
  readonly readyAt: number;
}

export interface ProvisioningWorkerDeps {
  readonly stacks: TenantStackDeps;
  readonly registry: TenantRegistry;
  readonly leases: TenantLeases;
  readonly jobs: JobQueue;
  readonly runs: ReconcileRuns;
  readonly parallelism: number;
  /** Tenants one reconcile run works on at once (within `parallelism`); `parallelism` by default. */
  readonly reconcileParallelism?: number;
  /** Seconds before each retry of a failed job; its length is the retry budget. */
  readonly retrySchedule: readonly number[];
  /** Seconds before a job for a busy tenant is tried again. */
  readonly busyRetrySeconds: number;
  readonly log: Logger;
  /** Secret values that must never reach the registry (masked out of error texts). */
  readonly redact?: readonly string[];
  readonly onTimings?: (timings: ProvisioningTimings) => void;
  readonly now?: () => number;
}

export interface ProvisioningWorker {
  /** The queue function's handler. */
  handle(message: unknown, context: InvocationContext): Promise<void>;
  /** Runs one job (the handler's core; tests and the CLI's in-process mode call it). */
  run(job: ProvisioningJob): Promise<JobOutcome>;
}

/** Errors that another attempt cannot fix: the tenant fails at once. */
const permanent = [InvalidTenantIdError, StackMissingError, OutputsContractError];

export function createProvisioningWorker(deps: ProvisioningWorkerDeps): ProvisioningWorker {
  const now = deps.now ?? Date.now;
  const limit = pLimit(deps.parallelism);
  const redact = deps.redact ?? [];

  /** Writes progress, dropping writes for a request that is no longer current. */
  function progressWriter(tenantId: string, requestId: string): (progress: TenantProgress) => void {
    let chain: Promise<unknown> = Promise.resolve();
    return (progress) => {
      chain = chain
        .then(() => deps.registry.update(tenantId, (r) => (r.requestId === requestId ? { ...r, progress } : r)))
        .catch((err: unknown) => deps.log.warn({ err, tenantId }, 'could not record progress'));
    };
  }

  /**
   * Takes the lease for a job; undefined when the tenant is busy. A duplicate of the job the
   * holder runs is dropped; anything else is sent again after `busyRetrySeconds`.
   */
  async function lease(job: Extract<ProvisioningJob, { tenantId: string }>, operation: string): Promise<TenantLease | JobOutcome> {
    try {
      return await deps.leases.acquire(job.tenantId, operation);
    } catch (err) {
      if (!(err instanceof LeaseHeldError)) throw err;
      const record = await deps.registry.get(job.tenantId);
      if (record?.requestId === job.requestId && err.holder.operation === operation) return 'duplicate';
      await deps.jobs.send(job, deps.busyRetrySeconds);
      return 'requeued';
    }
  }

  /** After a failed attempt: a delayed retry, or `failed` once the budget is spent. */
  async function failAttempt(job: Extract<ProvisioningJob, { tenantId: string }>, attempts: number, err: unknown): Promise<JobOutcome> {
    const error = recordError(err, new Date(now()), redact);
    const isPermanent = permanent.some((type) => err instanceof type);
    const delay = isPermanent ? undefined : deps.retrySchedule[attempts - 1];
    const log = deps.log.child({ tenantId: job.tenantId });
    if (delay !== undefined) {
      await deps.registry.update(job.tenantId, (r) =>
        r.requestId === job.requestId ? { ...r, lastError: error, nextAttemptAt: new Date(now() + delay * 1000).toISOString() } : r,
      );
      await deps.jobs.send(job, delay);
      log.warn({ err, attempts, retryInSeconds: delay }, `${job.kind} attempt failed; retrying`);
      return 'retry-scheduled';
    }
    await deps.registry.update(job.tenantId, (r) => {
      if (r.requestId !== job.requestId) return r;
      const { nextAttemptAt: _next, ...rest } = r;
      return { ...rest, status: 'failed', lastError: error };
    });
    log.error({ err, attempts }, `${job.kind} failed for good`);
    return 'failed';
  }

  /** The registry's verdict on a tenant job before any work: run it, or why not. */
  function verdict(record: TenantRecord | undefined, job: Extract<ProvisioningJob, { tenantId: string }>): JobOutcome | undefined {
    if (!record) return 'refused';
    if (job.kind === 'provision' && (record.status === 'deleted' || record.status === 'deprovisioning')) return 'refused';
    if (record.requestId !== job.requestId) return 'stale';
    if (record.completedRequestId === job.requestId) return 'duplicate';
    if (record.status === 'failed') return 'stale';
    if (job.kind === 'destroy' && record.status !== 'deprovisioning') return 'stale';
    return undefined;
  }

  async function runProvision(job: Extract<ProvisioningJob, { kind: 'provision' }>): Promise<JobOutcome> {
    const early = verdict(await deps.registry.get(job.tenantId), job);
    if (early) return early;
    return limit(async () => {
      // Taken once it has a slot: time waiting for one is queueing, not control-plane overhead.
      const jobTakenAt = now();
      const leased = await lease(job, 'provision');
      if (typeof leased === 'string') return leased;
      let attempts = 0;
      try {
        // Read again under the lease: a holder that just finished may have completed this request.
        const late = verdict(await deps.registry.get(job.tenantId), job);
        if (late) return late;
        const record = await deps.registry.update(job.tenantId, (r) => {
          const { nextAttemptAt: _next, ...rest } = r;
          return { ...rest, status: 'provisioning', operation: 'provision', attempts: r.attempts + 1, progress: { done: 0, total: r.progress?.total ?? 0 } };
        });
        attempts = record.attempts;
        const result = await provisionTenant(deps.stacks, {
          record,
          lease: leased,
          onProgress: progressWriter(job.tenantId, job.requestId),
        });
        await deps.registry.update(job.tenantId, (r) => {
          if (r.requestId !== job.requestId) return r;
          const { lastError: _lastError, ...rest } = r;
          return {
            ...rest,
            status: 'ready',
            outputs: result.outputs,
            progress: result.progress,
            completedRequestId: job.requestId,
            readyAt: new Date(now()).toISOString(),
          };
        });
        const readyAt = now();
        deps.onTimings?.({
          tenantId: job.tenantId,
          jobTakenAt,
          upStartedAt: result.upStartedAt,
          upFinishedAt: result.upFinishedAt,
          upReturnedAt: result.upReturnedAt,
          readyAt,
        });
        deps.log.info(
          { tenantId: job.tenantId, overheadBeforeUpMs: result.upStartedAt - jobTakenAt, overheadAfterUpMs: readyAt - result.upFinishedAt },
          'tenant ready',
        );
        return 'done';
      } catch (err) {
        return await failAttempt(job, attempts, err);
      } finally {
        await leased.release().catch((err: unknown) => deps.log.warn({ err, tenantId: job.tenantId }, 'could not release the lease'));
      }
    });
  }

  async function runDestroy(job: Extract<ProvisioningJob, { kind: 'destroy' }>): Promise<JobOutcome> {
    const early = verdict(await deps.registry.get(job.tenantId), job);
    if (early) return early;
    return limit(async () => {
      const leased = await lease(job, 'destroy');
      if (typeof leased === 'string') return leased;
      let attempts = 0;
      try {
        const late = verdict(await deps.registry.get(job.tenantId), job);
        if (late) return late;
        const record = await deps.registry.update(job.tenantId, (r) => ({ ...r, attempts: r.attempts + 1, progress: { done: 0, total: r.progress?.total ?? 0 } }));
        attempts = record.attempts;
        await destroyTenant(deps.stacks, { record, lease: leased, onProgress: progressWriter(job.tenantId, job.requestId) });
        await deps.registry.update(job.tenantId, (r) => {
          if (r.requestId !== job.requestId) return r;
          const { outputs: _outputs, lastError: _lastError, nextAttemptAt: _next, readyAt: _readyAt, ...rest } = r;
          return {
            ...rest,
            status: 'deleted',
            stackCreated: false,
            completedRequestId: job.requestId,
            progress: { done: r.progress?.total ?? 0, total: r.progress?.total ?? 0 },
            deletedAt: new Date(now()).toISOString(),
          };
        });
        return 'done';
      } catch (err) {
        return await failAttempt(job, attempts, err);
      } finally {
        await leased.release().catch((err: unknown) => deps.log.warn({ err, tenantId: job.tenantId }, 'could not release the lease'));
      }
    });
  }

  async function reconcileOne(record: TenantRecord): Promise<TenantReconcileResult> {
    const base = { tenantId: record.tenantId, drifted: [], repaired: [] };
    let leased: TenantLease;
    try {
      leased = await deps.leases.acquire(record.tenantId, 'reconcile');
    } catch (err) {
      if (err instanceof LeaseHeldError) return { ...base, outcome: 'busy' };
      throw err;
    }
    try {
      let current = await deps.registry.require(record.tenantId);
      if (current.status !== 'ready' && current.status !== 'failed') return { ...base, outcome: 'skipped' };
      // A failed tenant goes through `provisioning` again: reconcile is its repair.
      if (current.status === 'failed') current = await deps.registry.update(record.tenantId, (r) => ({ ...r, status: 'provisioning', operation: 'reconcile' }));
      const result = await reconcileTenant(deps.stacks, { record: current, lease: leased, onProgress: () => undefined });
      const outputs: TenantStackOutputs = result.outputs;
      await deps.registry.update(record.tenantId, (r) => {
        if (r.requestId !== current.requestId) return r;
        const { lastError: _lastError, reconcileError: _reconcileError, ...rest } = r;
        return {
          ...rest,
          status: 'ready',
          outputs,
          ...(r.status === 'provisioning' ? { readyAt: new Date(now()).toISOString(), completedRequestId: r.requestId } : {}),
          lastReconcile: { at: new Date(now()).toISOString(), drifted: result.drifted.length, repaired: result.repaired.length },
        };
      });
      const outcome = result.drifted.length || result.repaired.length ? 'repaired' : 'in-sync';
      return { tenantId: record.tenantId, outcome, drifted: result.drifted, repaired: result.repaired };
    } catch (err) {
      const error = recordError(err, new Date(now()), redact);
      // A serving tenant keeps serving: what it runs was not taken down by a failed refresh or up,
      // so it stays `ready` with the reason, and the next reconcile retries. Only a tenant that was
      // not serving (a failed one this reconcile tried to repair) goes back to `failed`.
      await deps.registry
        .update(record.tenantId, (r) => {
          if (r.status === 'ready') return { ...r, reconcileError: error };
          if (r.status === 'provisioning' && r.operation === 'reconcile') return { ...r, status: 'failed', lastError: error };
          return r;
        })
        .catch((writeError: unknown) => deps.log.error({ err: writeError, tenantId: record.tenantId }, 'could not record a failed reconcile'));
      deps.log.error({ err, tenantId: record.tenantId }, 'reconcile failed');
      return { ...base, outcome: 'failed', error };
    } finally {
      await leased.release().catch((err: unknown) => deps.log.warn({ err, tenantId: record.tenantId }, 'could not release the lease'));
    }
  }

  async function runReconcile(job: Extract<ProvisioningJob, { kind: 'reconcile' }>): Promise<JobOutcome> {
    const existing = await deps.runs.get(job.runId);
    if (existing?.status === 'done') return 'duplicate';
    await deps.runs.start(job.runId);
    const wanted = job.tenantIds ? new Set(job.tenantIds) : undefined;
    const tenants = (await deps.registry.list()).filter((r) => (!wanted || wanted.has(r.tenantId)) && (!job.readyOnly || r.status === 'ready'));
    const report = await reconcileTenants({
      runId: job.runId,
      tenants,
      parallelism: deps.reconcileParallelism ?? deps.parallelism,
      reconcileOne: (record) => limit(() => reconcileOne(record)),
    });
    await deps.runs.finish(report);
    deps.log.info(
      { runId: job.runId, outcomes: report.tenants.map((t) => `${t.tenantId}:${t.outcome}`) },
      'reconcile finished',
    );
    return 'done';
  }

  async function run(job: ProvisioningJob): Promise<JobOutcome> {
    let outcome: JobOutcome;
    if (job.kind === 'reconcile') {
      outcome = await runReconcile(job);
    } else {
      assertTenantId(job.tenantId);
      outcome = job.kind === 'provision' ? await runProvision(job) : await runDestroy(job);
      if (outcome === 'refused') {
        const error = new TenantDeletedError(`refused a ${job.kind} job for tenant ${job.tenantId}: it is unknown, deleted or being deleted`);
        deps.log.warn({ err: error, tenantId: job.tenantId, requestId: job.requestId }, 'job refused');
      }
    }
    deps.log.info({ job: job.kind, ...('tenantId' in job ? { tenantId: job.tenantId } : { runId: job.runId }), outcome }, 'provisioning job handled');
    return outcome;
  }

  return {
    run,
    async handle(message, context) {
      let job: ProvisioningJob;
      try {
        job = parseProvisioningJob(message);
        if (job.kind !== 'reconcile') assertTenantId(job.tenantId);
      } catch (err) {
        // Bad input is refused, not retried: a retry cannot make it valid.
        if (err instanceof InvalidJobError || err instanceof InvalidTenantIdError) {
          context.warn('refused a malformed provisioning job', err.message);
          return;
        }
        throw err;
      }
      await run(job);
    },
  };
}
