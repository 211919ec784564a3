/**
 * The round loop of Zekt's group commits: the ingress's (the intake's rows, persist-deliveries.ts;
 * the router's updates, batch-delivery-updates.ts) and the tenant's (its delivery records' writes,
 * tenant/dispatch/delivery-store.ts). Items added while a round is in flight form the next one; a
 * round takes, per partition, as much as one table transaction holds (Azure Tables: 100
 * operations and 4 MiB, kept to 3.5 MiB here) and the rest waits for the round after.
 * `commitRound` answers each item's caller itself; it must not throw.
 *
 * With `gatherMs`, a round waits that long after its first item for more to join it, unless a
 * full transaction's worth is already waiting: for writes nobody waits on (the router's
 * `delivered` marks), where a round of one row costs as much as a round of a hundred.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const maxBatchOperations = 100;
const maxBatchBytes = 3.5 * 1024 * 1024;

export interface GroupCommitOptions<T> {
  partitionOf(item: T): string;
  /** Bytes the item adds to its transaction's body. */
  sizeOf(item: T): number;
  /** A row a transaction may name only once: an item whose key is already in the round waits. Absent: no such limit. */
  keyOf?(item: T): string;
  commitRound(round: Map<string, T[]>): Promise<void>;
  /** How long a round gathers before it is committed (absent: what arrived in the same turn of the event loop). */
  gatherMs?: number;
}

export function createGroupCommit<T>(options: GroupCommitOptions<T>): { add(item: T): void } {
  let pending: T[] = [];
  let flushing = false;
  const gatherMs = options.gatherMs ?? 0;

  function schedule(): void {
    if (flushing) return;
    flushing = true;
    // Without a gather, setImmediate takes everything that arrived in this turn of the event loop.
    if (gatherMs > 0) setTimeout(() => void flushLoop(), gatherMs);
    else setImmediate(() => void flushLoop());
  }

  async function flushLoop(): Promise<void> {
    try {
      while (pending.length > 0) {
        await options.commitRound(takeRound());
        // What arrived during the commit gathers in turn, unless a full transaction is waiting.
        if (gatherMs > 0 && pending.length > 0 && pending.length < maxBatchOperations) await sleep(gatherMs);
      }
    } finally {
      flushing = false;
      if (pending.length > 0) schedule();
    }
  }

  function takeRound(): Map<string, T[]> {
    const round = new Map<string, { items: T[]; bytes: number; keys: Set<string> }>();
    const left: T[] = [];
    for (const item of pending) {
      const partition = options.partitionOf(item);
      const batch = round.get(partition) ?? { items: [], bytes: 0, keys: new Set<string>() };
      const size = options.sizeOf(item);
      const key = options.keyOf?.(item);
      if ((key !== undefined && batch.keys.has(key)) || batch.items.length >= maxBatchOperations || (batch.items.length > 0 && batch.bytes + size > maxBatchBytes)) {
        left.push(item);
        continue;
      }
      batch.items.push(item);
      if (key !== undefined) batch.keys.add(key);
      batch.bytes += size;
      round.set(partition, batch);
    }
    pending = left;
    return new Map([...round].map(([partition, batch]) => [partition, batch.items]));
  }

  return {
    add(item) {
      pending.push(item);
      schedule();
    },
  };
}
