/**
 * Offboarding: `destroy` the tenant's stack (every resource of its compartment is deleted — on
 * the local target the Azurite process and its data, the vault and its secrets, the identity, the
 * runtime process), then remove the stack and its work directory. A tenant whose stack never got
 * created, or is already gone, has nothing to destroy.
 */
import { rm } from 'node:fs/promises';
import { StackMissingError } from './stack-workspace.ts';
import { abortReason, openTenantStack, operationSignal, type StackRunContext, type TenantStackDeps } from './provision-tenant.ts';
import { runWithLockRecovery } from './recover-interrupted-update.ts';
import { trackProgress } from './track-progress.ts';

export interface DestroyResult {
  /** False when there was no stack to destroy. */
  readonly destroyed: boolean;
  readonly changes: Readonly<Record<string, number>>;
}

export async function destroyTenant(deps: TenantStackDeps, context: StackRunContext): Promise<DestroyResult> {
  const log = deps.log.child({ tenantId: context.record.tenantId });
  let opened;
  try {
    // A stack created by an attempt whose registry write was lost is found by create-or-adopt.
    opened = await openTenantStack(deps, context.record);
  } catch (err) {
    if (!(err instanceof StackMissingError)) throw err;
    log.warn('the tenant stack is already gone; nothing to destroy');
    await rm(deps.workspaces.workDir(context.record.tenantId), { recursive: true, force: true });
    return { destroyed: false, changes: {} };
  }
  const { stack } = opened;
  const signal = operationSignal(context.lease, deps.operationTimeoutMs);
  const tracker = trackProgress({ ...(context.record.progress?.total ? { previousTotal: context.record.progress.total } : {}), report: context.onProgress });
  await context.lease.markUpdate(true);
  let result;
  try {
    result = await runWithLockRecovery(() => stack.destroy({ onEvent: tracker.onEvent, signal }), {
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
  await stack.workspace.removeStack(stack.name);
  await context.lease.markUpdate(false);
  await rm(deps.workspaces.workDir(context.record.tenantId), { recursive: true, force: true });
  log.info({ changes: result.summary.resourceChanges }, 'tenant stack destroyed and removed');
  return { destroyed: true, changes: result.summary.resourceChanges ?? {} };
}
