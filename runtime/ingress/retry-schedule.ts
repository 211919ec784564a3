/**
 * When to try a forward again. The schedule is data (`ZEKT_FORWARD_RETRY_SCHEDULE`, seconds):
 * attempt n waits schedule[n-1], spread by ±20 % jitter so a tenant that comes back is not hit by
 * every retry at once, and never less than the tenant's own `Retry-After`.
 */

/** Statuses worth retrying: the tenant may answer differently later. Other 4xx will not change. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now.getTime()) / 1000);
}

/**
 * Seconds to wait before the next attempt, or undefined when the budget is spent.
 * @param attemptsMade attempts already made (1 after the first failure)
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return undefined;
  const jittered = base * (0.8 + 0.4 * random());
  return Math.max(jittered, retryAfterSeconds ?? 0);
}
