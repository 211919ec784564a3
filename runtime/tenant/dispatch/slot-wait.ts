/**
 * How long a taker `position` places down an installation's line waits for its slot, read from
 * the budget's log (rate-budget.ts). The takers ahead take the slots as they free, in order; a
 * slot taken frees again one window later. Only an estimate for deciding whether to wait in line
 * or come back later: a slot is still only granted by the write under the row's ETag.
 */

export interface BudgetLog {
  /** Request times (epoch ms), ascending. */
  readonly stamps: readonly number[];
  readonly pausedUntil: number;
}

export interface BudgetWindow {
  /** The window's length, its margin included (ms). */
  readonly lengthMs: number;
  readonly limit: number;
}

/** Milliseconds from `at` until the slot of the taker with `position` takers ahead frees in every window. */
export function slotWait(log: BudgetLog, windows: readonly BudgetWindow[], at: number, position: number): number {
  let until = log.pausedUntil;
  for (const { lengthMs, limit } of windows) {
    const inWindow = log.stamps.filter((s) => s > at - lengthMs);
    const freesAt = (p: number): number => {
      const index = inWindow.length - limit + p;
      if (index < 0) return at;
      if (index < inWindow.length) return (inWindow[index] as number) + lengthMs;
      // A slot not taken yet: it frees a window after the taker `limit` places ahead takes it.
      return freesAt(p - limit) + lengthMs;
    };
    until = Math.max(until, freesAt(position));
  }
  return Math.max(0, until - at);
}
