/**
 * A lease per tenant, so that one tenant's stack never has two operations at once, across
 * workers and processes. The lease is a Table entity (partition `lease`, next to the registry)
 * written under its ETag: taking it is an insert, or a replace of a lease whose holder is gone.
 *
 * When is a holder gone? A holder renews every third of the lease period. A lease not renewed for
 * one period may be taken over. Its holder counts as *dead* — safe to clean up after, e.g. cancel
 * the Pulumi update it left locked — once it has been silent for two periods, or at once when it
 * ran on this host and its process no longer exists. Between the two, it may still be winding
 * down (a paused process whose renewals failed aborts its own update), so callers retry with
 * backoff rather than break its lock.
 */
import type { TableClient } from '@azure/data-tables';
import { assertTenantId } from '../tenant-stack/tenant-id.ts';
import { statusOf } from '../runtime/storage/status-of.ts';

export interface LeaseHolder {
  /** Unique per worker instance. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

export interface PreviousHolder extends LeaseHolder {
  readonly operation: string;
  /** It had a stack update running when it stopped renewing. */
  readonly updateRunning: boolean;
  /** Last moment its lease was valid (ms since epoch). */
  readonly expiresAt: number;
}

export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
  constructor(
    readonly tenantId: string,
    readonly holder: LeaseHolder & { operation: string },
  ) {
    super(`tenant ${tenantId} is leased by ${holder.id} (${holder.operation})`);
  }
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface TenantLease {
  readonly tenantId: string;
  /** The holder this lease was taken over from, if it had not released it. */
  readonly previous?: PreviousHolder;
  /** Aborts when the lease is lost (a renewal found another holder). */
  readonly signal: AbortSignal;
  /** Records whether a stack update is running (read by whoever takes over after a crash). */
  markUpdate(running: boolean): Promise<void>;
  /** Whether `previous` counts as dead now (see the module comment). */
  previousIsDead(): boolean;
  release(): Promise<void>;
}

export interface TenantLeases {
  /** Takes the tenant's lease or throws `LeaseHeldError`; renews it until `release()`. */
  acquire(tenantId: string, operation: string): Promise<TenantLease>;
  /** The current holder, if the lease is held and live. */
  holder(tenantId: string): Promise<(LeaseHolder & { operation: string }) | undefined>;
}

const partition = 'lease';

interface LeaseEntity {
  partitionKey: string;
  rowKey: string;
  holderId: string;
  host: string;
  pid: number;
  operation: string;
  expiresAt: number;
  updateRunning: boolean;
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function createTenantLeases(options: {
  readonly table: TableClient;
  readonly holder: LeaseHolder;
  readonly leaseMs: number;
  readonly now?: () => number;
}): TenantLeases {
  const { table, holder, leaseMs } = options;
  const now = options.now ?? Date.now;
  let ensured: Promise<void> | undefined;
  const ensureTable = () =>
    (ensured ??= table.createTable().catch((err: unknown) => {
      ensured = undefined;
      throw err;
    }));

  const sameHostGone = (h: { host: string; pid: number }) => h.host === holder.host && processGone(h.pid);
  /** May be taken over: expired, or its process is gone. */
  const free = (e: LeaseEntity) => e.expiresAt <= now() || sameHostGone(e);
  /** Safe to clean up after: silent for two periods, or its process is gone. */
  const dead = (p: PreviousHolder) => p.expiresAt + leaseMs <= now() || sameHostGone(p);

  async function read(tenantId: string): Promise<(LeaseEntity & { etag: string }) | undefined> {
    try {
      const entity = await table.getEntity<LeaseEntity>(partition, tenantId);
      return { ...entity, etag: entity.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  return {
    async holder(tenantId) {
      assertTenantId(tenantId);
      await ensureTable();
      const entity = await read(tenantId);
      if (!entity || free(entity)) return undefined;
      return { id: entity.holderId, host: entity.host, pid: entity.pid, operation: entity.operation };
    },

    async acquire(tenantId, operation) {
      assertTenantId(tenantId);
      await ensureTable();
      const fresh = (updateRunning: boolean): LeaseEntity => ({
        partitionKey: partition,
        rowKey: tenantId,
        holderId: holder.id,
        host: holder.host,
        pid: holder.pid,
        operation,
        expiresAt: now() + leaseMs,
        updateRunning,
      });

      let etag: string;
      let previous: PreviousHolder | undefined;
      const existing = await read(tenantId);
      try {
        if (!existing) {
          etag = (await table.createEntity(fresh(false))).etag ?? '';
        } else if (free(existing)) {
          previous = {
            id: existing.holderId,
            host: existing.host,
            pid: existing.pid,
            operation: existing.operation,
            updateRunning: existing.updateRunning,
            expiresAt: existing.expiresAt,
          };
          // The previous holder's update marker is carried over until our own update clears it.
          etag = (await table.updateEntity(fresh(existing.updateRunning), 'Replace', { etag: existing.etag })).etag ?? '';
        } else {
          throw new LeaseHeldError(tenantId, { id: existing.holderId, host: existing.host, pid: existing.pid, operation: existing.operation });
        }
      } catch (err) {
        // 409 / 412: another worker took it between our read and write.
        if (statusOf(err) === 409 || statusOf(err) === 412) {
          const winner = await read(tenantId);
          throw new LeaseHeldError(tenantId, {
            id: winner?.holderId ?? 'unknown',
            host: winner?.host ?? 'unknown',
            pid: winner?.pid ?? 0,
            operation: winner?.operation ?? 'unknown',
          });
        }
        throw err;
      }

      const lost = new AbortController();
      let updateRunning = existing && previous ? existing.updateRunning : false;
      let released = false;
      let writing: Promise<void> = Promise.resolve();

      const write = (patch: Partial<LeaseEntity>) => {
        writing = writing.then(async () => {
          if (released || lost.signal.aborted) return;
          try {
            const entity = { ...fresh(updateRunning), ...patch };
            etag = (await table.updateEntity(entity, 'Replace', { etag })).etag ?? '';
          } catch (err) {
            if (statusOf(err) === 412 || statusOf(err) === 404) {
              lost.abort(new LeaseLostError(`lost the lease of tenant ${tenantId}`, { cause: err }));
              return;
            }
            throw err;
          }
        });
        return writing;
      };

      const timer = setInterval(() => {
        write({}).catch(() => {
          // A failed renewal is retried on the next tick; the lease stays valid until it expires.
        });
      }, Math.max(100, Math.floor(leaseMs / 3)));
      timer.unref();

      return {
        tenantId,
        ...(previous ? { previous } : {}),
        signal: lost.signal,
        async markUpdate(running) {
          updateRunning = running;
          await write({ updateRunning: running });
          if (lost.signal.aborted) throw lost.signal.reason as Error;
        },
        previousIsDead: () => (previous ? dead(previous) : false),
        async release() {
          clearInterval(timer);
          await writing.catch(() => undefined);
          if (released) return;
          released = true;
          if (lost.signal.aborted) return;
          try {
            await table.deleteEntity(partition, tenantId, { etag });
          } catch (err) {
            // Already gone or taken over: nothing of ours to release.
            if (statusOf(err) !== 404 && statusOf(err) !== 412) throw err;
          }
        },
      };
    },
  };
}
