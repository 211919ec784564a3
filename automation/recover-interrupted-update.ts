/**
 * Recovery from a worker killed in the middle of a stack update (verified here with the file
 * backend): the engine dies with the worker, its lock file stays, and the state keeps the pending
 * operations of the steps in flight, so the next update fails with `ConcurrentUpdateError`.
 * Recovery, once the lease shows the holder dead:
 *   1. `cancel` — on the file backend it removes the lock;
 *   2. `refresh --clear-pending-creates` — drops the pending operations (a plain `up` succeeds
 *      but leaves them in the state);
 *   3. the update again — resource names are deterministic and the local resource manager
 *      adopts a name that exists, so a create that had reached the manager is adopted, not
 *      orphaned.
 * While the previous holder may still be winding down, a `ConcurrentUpdateError` is retried with
 * backoff instead; its lock is never broken under a live holder.
 */
import { ConcurrentUpdateError, type Stack } from '@pulumi/pulumi/automation/index.js';
import type { Logger } from '../runtime/core/logger.ts';
import type { TenantLease } from './tenant-lease.ts';

/** The stack stayed locked by someone alive (or outside the control plane) for the whole backoff. */
export class StackLockedError extends Error {
  override name = 'StackLockedError';
}

export async function recoverInterruptedUpdate(stack: Stack, options: { signal?: AbortSignal; log: Logger }): Promise<void> {
  options.log.warn({ stack: stack.name }, 'recovering an interrupted update: cancel, clear pending operations');
  await stack.cancel();
  await stack.refresh({ clearPendingCreates: true, ...(options.signal ? { signal: options.signal } : {}) });
}

export interface LockRecoveryOptions {
  readonly stack: Stack;
  readonly lease: TenantLease;
  /** Waits before each retry of a `ConcurrentUpdateError`, in ms; its length is the budget. */
  readonly retryDelaysMs: readonly number[];
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

/** Runs one stack operation, recovering from a dead holder's lock or waiting out a live one. */
export async function runWithLockRecovery<T>(operation: () => Promise<T>, options: LockRecoveryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  let recovered = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const previous = options.lease.previous;
      if (!recovered && previous?.updateRunning && options.lease.previousIsDead()) {
        recovered = true;
        await recoverInterruptedUpdate(options.stack, { log: options.log, ...(options.signal ? { signal: options.signal } : {}) });
        continue;
      }
      const delay = options.retryDelaysMs[attempt];
      if (delay === undefined) {
        throw new StackLockedError(`stack ${options.stack.name} stayed locked by another update`, { cause: err });
      }
      options.log.info({ stack: options.stack.name, attempt: attempt + 1, delayMs: delay }, 'stack is locked by another update; retrying');
      await sleep(delay, options.signal);
    }
  }
}
