/**
 * Brings one tenant's compartment to its desired state: open its stack (create or select, as the
 * registry says), run `up` with the program inline while engine events stream into progress,
 * bounded by a timeout and by the lease (both through one `AbortSignal`: the Automation API then
 * interrupts the engine, which cancels gracefully and releases its lock), and return the outputs
 * checked against the outputs contract. A lock left by a dead worker is recovered
 * (recover-interrupted-update.ts).
 */
import type { OutputMap, PulumiFn, Stack } from '@pulumi/pulumi/automation/index.js';
import type { Logger } from '../runtime/core/logger.ts';
import { tenantOutputKeys, type TenantStackOutputs } from '../tenant-stack/tenant-outputs.ts';
import type { StackWorkspaces } from './stack-workspace.ts';
import type { TenantLease } from './tenant-lease.ts';
import type { TenantProgress, TenantRecord, TenantRegistry } from './tenant-registry.ts';
import { runWithLockRecovery } from './recover-interrupted-update.ts';
import { trackProgress } from './track-progress.ts';

/** The stack's outputs do not satisfy `TenantStackOutputs`. */
export class OutputsContractError extends Error {
  override name = 'OutputsContractError';
}

/** The operation ran past `ZEKT_PROVISIONING_TIMEOUT_SECONDS` and was cancelled. */
export class StackOperationTimeoutError extends Error {
  override name = 'StackOperationTimeoutError';
}

/** What every stack operation of the control plane needs. */
export interface TenantStackDeps {
  readonly workspaces: StackWorkspaces;
  /** The tenant program for a tenant (its target chosen by configuration). */
  readonly programFor: (record: TenantRecord) => PulumiFn;
  /** Plain stack config recorded with the stack (tenant id, target, creation id). */
  readonly configFor: (record: TenantRecord) => Record<string, string>;
  readonly registry: TenantRegistry;
  readonly operationTimeoutMs: number;
  /** Waits before retries of a stack locked by a live holder, in ms. */
  readonly lockRetryDelaysMs: readonly number[];
  readonly log: Logger;
  readonly now?: () => number;
}

export interface StackRunContext {
  readonly record: TenantRecord;
  readonly lease: TenantLease;
  readonly onProgress: (progress: TenantProgress) => void;
}

export interface ProvisionResult {
  readonly outputs: TenantStackOutputs;
  /** Resource changes by op (`same`, `create`, `update`…), from the engine's summary. */
  readonly changes: Readonly<Record<string, number>>;
  readonly progress: TenantProgress;
  /** ms since epoch: `up` called; the engine's summary (its work done); `up()` returned. */
  readonly upStartedAt: number;
  readonly upFinishedAt: number;
  readonly upReturnedAt: number;
}

/** One signal for a stack operation: the lease's and the timeout's. */
export function operationSignal(lease: TenantLease, timeoutMs: number): AbortSignal {
  return AbortSignal.any([lease.signal, AbortSignal.timeout(timeoutMs)]);
}

/** Names why an aborted operation stopped, keeping the engine's error as the cause. */
export function abortReason(signal: AbortSignal, err: unknown, timeoutMs: number): unknown {
  if (!signal.aborted) return err;
  const reason = signal.reason as Error | undefined;
  if (reason?.name === 'TimeoutError') {
    return new StackOperationTimeoutError(`the stack operation ran longer than ${Math.round(timeoutMs / 1000)} s and was cancelled`, { cause: err });
  }
  return reason ?? err;
}

/** Opens the tenant's stack, recording in the registry that it now exists. */
export async function openTenantStack(deps: TenantStackDeps, record: TenantRecord): Promise<{ stack: Stack; record: TenantRecord }> {
  const stack = await deps.workspaces.open(record.tenantId, {
    mode: record.stackCreated ? 'select' : 'create',
    program: deps.programFor(record),
    config: deps.configFor(record),
  });
  if (record.stackCreated) return { stack, record };
  const updated = await deps.registry.update(record.tenantId, (r) => ({ ...r, stackCreated: true }));
  return { stack, record: updated };
}

export function toTenantOutputs(outputs: OutputMap): TenantStackOutputs {
  const missing = tenantOutputKeys.filter((key) => typeof outputs[key]?.value !== 'string' || outputs[key]?.secret);
  if (missing.length) throw new OutputsContractError(`the tenant stack lacks outputs (or marks them secret): ${missing.join(', ')}`);
  return Object.fromEntries(tenantOutputKeys.map((key) => [key, outputs[key]?.value as string])) as unknown as TenantStackOutputs;
}

export async function provisionTenant(deps: TenantStackDeps, context: StackRunContext): Promise<ProvisionResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ tenantId: context.record.tenantId });
  const { stack } = await openTenantStack(deps, context.record);
  const signal = operationSignal(context.lease, deps.operationTimeoutMs);
  const tracker = trackProgress({
    ...(context.record.progress?.total ? { previousTotal: context.record.progress.total } : {}),
    report: context.onProgress,
  });

  await context.lease.markUpdate(true);
  const upStartedAt = now();
  let result;
  try {
    result = await runWithLockRecovery(() => stack.up({ onEvent: tracker.onEvent, signal }), {
      stack,
      lease: context.lease,
      retryDelaysMs: deps.lockRetryDelaysMs,
      log,
      signal,
    });
  } catch (err) {
    throw abortReason(signal, err, deps.operationTimeoutMs);
  } finally {
    tracker.finish();
  }
  const upReturnedAt = now();
  const upFinishedAt = tracker.summaryAt() ?? upReturnedAt;
  await context.lease.markUpdate(false);
  const outputs = toTenantOutputs(result.outputs);
  const progress = tracker.current();
  log.info({ changes: result.summary.resourceChanges, durationMs: now() - upStartedAt }, 'tenant stack is up');
  return { outputs, changes: result.summary.resourceChanges ?? {}, progress: { done: progress.total, total: progress.total }, upStartedAt, upFinishedAt, upReturnedAt };
}
