/**
 * Drift repair. For one tenant: `refresh` (what the live resources look like now — on the local
 * target the resource manager reports a deleted vault, a stopped runtime, a changed secret) then
 * `up` (back to the program's desired state). Across tenants: every `ready` or `failed` tenant,
 * with bounded parallelism, into one report of what drifted and what was repaired. Leasing and
 * registry writes are the worker's (provisioning-worker.ts); this file runs the stack operations.
 */
import type { EngineEvent, OpType } from '@pulumi/pulumi/automation/index.js';
import pLimit from 'p-limit';
import type { TenantStackOutputs } from '../tenant-stack/tenant-outputs.ts';
import { abortReason, openTenantStack, operationSignal, toTenantOutputs, type StackRunContext, type TenantStackDeps } from './provision-tenant.ts';
import { runWithLockRecovery } from './recover-interrupted-update.ts';
import { trackProgress } from './track-progress.ts';
import type { RecordedError, TenantRecord } from './tenant-registry.ts';

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  /** `update` (changed behind Pulumi's back), `delete` (gone), `create`, `replace`… */
  readonly op: OpType;
}

export interface TenantReconcileResult {
  readonly tenantId: string;
  readonly outcome: 'in-sync' | 'repaired' | 'failed' | 'busy' | 'skipped';
  readonly drifted: readonly ResourceChange[];
  readonly repaired: readonly ResourceChange[];
  readonly error?: RecordedError;
}

export interface ReconcileReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly tenants: readonly TenantReconcileResult[];
}

const unchanged = new Set<OpType>(['same', 'read', 'refresh']);

/** The resources an engine event says were changed, keyed by URN (the stack itself excluded). */
function collectChanges(into: Map<string, ResourceChange>, refreshing: boolean) {
  return (event: EngineEvent) => {
    const metadata = event.resOutputsEvent?.metadata;
    if (!metadata || metadata.type === 'pulumi:pulumi:Stack') return;
    let op = metadata.op;
    if (refreshing) {
      // A refresh step is op `refresh`; what it found shows in old vs new state.
      if (!metadata.new) op = 'delete';
      else if (metadata.diffs?.length || JSON.stringify(metadata.old?.outputs) !== JSON.stringify(metadata.new.outputs)) op = 'update';
      else return;
    } else if (unchanged.has(op)) {
      return;
    }
    into.set(metadata.urn, { urn: metadata.urn, type: metadata.type, op });
  };
}

/** Refresh then up for one tenant (lease held by the caller). */
export async function reconcileTenant(
  deps: TenantStackDeps,
  context: StackRunContext,
): Promise<{ drifted: ResourceChange[]; repaired: ResourceChange[]; outputs: TenantStackOutputs }> {
  const { stack } = await openTenantStack(deps, context.record);
  const signal = operationSignal(context.lease, deps.operationTimeoutMs);
  const lockOptions = { stack, lease: context.lease, retryDelaysMs: deps.lockRetryDelaysMs, log: deps.log.child({ tenantId: context.record.tenantId }), signal };
  const drifted = new Map<string, ResourceChange>();
  const repaired = new Map<string, ResourceChange>();
  const tracker = trackProgress({ ...(context.record.progress?.total ? { previousTotal: context.record.progress.total } : {}), report: context.onProgress });
  await context.lease.markUpdate(true);
  try {
    const onDrift = collectChanges(drifted, true);
    await runWithLockRecovery(() => stack.refresh({ onEvent: onDrift, signal }), lockOptions);
    const onRepair = collectChanges(repaired, false);
    const result = await runWithLockRecovery(
      () =>
        stack.up({
          onEvent: (event) => {
            onRepair(event);
            tracker.onEvent(event);
          },
          signal,
        }),
      lockOptions,
    );
    await context.lease.markUpdate(false);
    return { drifted: [...drifted.values()], repaired: [...repaired.values()], outputs: toTenantOutputs(result.outputs) };
  } catch (err) {
    throw abortReason(signal, err, deps.operationTimeoutMs);
  } finally {
    tracker.finish();
  }
}

/** Runs `reconcileOne` for the chosen tenants with bounded parallelism, into one report. */
export async function reconcileTenants(options: {
  readonly runId: string;
  readonly tenants: readonly TenantRecord[];
  readonly parallelism: number;
  readonly reconcileOne: (record: TenantRecord) => Promise<TenantReconcileResult>;
  readonly now?: () => Date;
}): Promise<ReconcileReport> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const limit = pLimit(options.parallelism);
  const tenants = await Promise.all(
    options.tenants.map((record) =>
      record.status === 'ready' || record.status === 'failed'
        ? limit(() => options.reconcileOne(record))
        : Promise.resolve<TenantReconcileResult>({ tenantId: record.tenantId, outcome: 'skipped', drifted: [], repaired: [] }),
    ),
  );
  return { runId: options.runId, startedAt, finishedAt: now().toISOString(), tenants };
}
