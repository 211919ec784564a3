/**
 * The control plane's front door: what the signup endpoint, the operator CLI and anything else
 * call to ask for a tenant's compartment, its removal or a reconcile. Each call validates the
 * tenant id before it names anything, records the request in the registry, and enqueues a job;
 * the worker does the rest. All three are idempotent: asking again for what is already asked
 * re-sends the same job (same request id), which the worker runs once.
 */
import { assertTenantId } from '../tenant-stack/tenant-id.ts';
import type { JobQueue, ProvisioningJob } from './provisioning-jobs.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';
import { newCreationId, newRequestId, TenantExistsError, TenantNotFoundError, type TenantRecord, type TenantRegistry } from './tenant-registry.ts';

/** The tenant's status refuses the request (e.g. provisioning a tenant being deleted). */
export class TenantStateError extends Error {
  override name = 'TenantStateError';
  constructor(
    readonly tenantId: string,
    readonly status: TenantRecord['status'],
    message: string,
  ) {
    super(message);
  }
}

/** A job about one tenant. */
export type TenantJob = Extract<ProvisioningJob, { tenantId: string }>;

export interface ControlPlaneClientDeps {
  readonly registry: TenantRegistry;
  readonly jobs: JobQueue;
}

export interface EnqueueResult {
  readonly record: TenantRecord;
  /** The job sent, or undefined when nothing was needed (already ready / already deleted). */
  readonly job?: TenantJob;
}

/**
 * Asks for a tenant's compartment. New tenant → `requested` and a job. Already requested or
 * provisioning → the same job again. Ready → nothing to do. Failed → a new request. Deleted → a new
 * life (new creation id, so fresh globally unique names). Being deleted → `TenantStateError`.
 * An invalid id throws `InvalidTenantIdError` and nothing is created.
 */
export async function enqueueProvisioning(deps: ControlPlaneClientDeps, tenantId: string): Promise<EnqueueResult> {
  assertTenantId(tenantId);
  let record = await deps.registry.get(tenantId);
  if (!record) {
    try {
      record = await deps.registry.create(tenantId, { requestId: newRequestId() });
    } catch (err) {
      // Two signups at once: the other one registered it; continue with its record.
      if (!(err instanceof TenantExistsError)) throw err;
      record = await deps.registry.require(tenantId);
    }
  }
  switch (record.status) {
    case 'ready':
      return { record };
    case 'deprovisioning':
      throw new TenantStateError(tenantId, record.status, `tenant ${tenantId} is being deleted; ask again once it is deleted`);
    case 'failed':
    case 'deleted': {
      const fresh = record.status === 'deleted';
      record = await deps.registry.update(tenantId, (r) => {
        if (r.status !== 'failed' && r.status !== 'deleted') return r;
        const { lastError: _lastError, nextAttemptAt: _next, progress: _progress, ...rest } = r;
        return {
          ...rest,
          status: 'requested',
          operation: 'provision',
          requestId: newRequestId(),
          attempts: 0,
          ...(fresh ? { creationId: newCreationId(), stackCreated: false } : {}),
        };
      });
      break;
    }
    default:
      break;
  }
  if (record.status === 'ready') return { record };
  if (record.status !== 'requested' && record.status !== 'provisioning') {
    throw new TenantStateError(tenantId, record.status, `tenant ${tenantId} is ${record.status}`);
  }
  const job: TenantJob = { kind: 'provision', tenantId, requestId: record.requestId };
  await deps.jobs.send(job);
  return { record, job };
}

/**
 * Asks for a tenant's removal (offboarding). Unknown → `TenantNotFoundError`. Deleted → nothing
 * to do. Being deleted → the same job again. Otherwise → `deprovisioning` and a destroy job; a
 * provisioning job still in flight becomes stale and the destroy waits for its lease.
 */
export async function enqueueDeprovisioning(deps: ControlPlaneClientDeps, tenantId: string): Promise<EnqueueResult> {
  assertTenantId(tenantId);
  const current = await deps.registry.get(tenantId);
  if (!current) throw new TenantNotFoundError(`tenant ${tenantId} is not registered`);
  if (current.status === 'deleted') return { record: current };
  const record = await deps.registry.update(tenantId, (r) => {
    if (r.status === 'deprovisioning' || r.status === 'deleted') return r;
    const { nextAttemptAt: _next, ...rest } = r;
    return { ...rest, status: 'deprovisioning', operation: 'destroy', requestId: newRequestId(), attempts: 0 };
  });
  if (record.status === 'deleted') return { record };
  const job: TenantJob = { kind: 'destroy', tenantId, requestId: record.requestId };
  await deps.jobs.send(job);
  return { record, job };
}

/**
 * Asks for a reconcile of the given tenants (all by default; only `ready` ones with `readyOnly`,
 * as the reconcile timer does); the report lands in `runs`.
 */
export async function enqueueReconcile(
  deps: { readonly jobs: JobQueue; readonly runs: ReconcileRuns },
  options: { readonly tenantIds?: readonly string[]; readonly readyOnly?: boolean } = {},
): Promise<{ runId: string }> {
  for (const id of options.tenantIds ?? []) assertTenantId(id);
  const runId = newRequestId();
  await deps.runs.request(runId);
  await deps.jobs.send({
    kind: 'reconcile',
    runId,
    ...(options.tenantIds ? { tenantIds: [...options.tenantIds] } : {}),
    ...(options.readyOnly ? { readyOnly: true } : {}),
  });
  return { runId };
}
