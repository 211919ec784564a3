/**
 * What a `repository_dispatch` answer means for the delivery — the retry rule in one pure
 * function. GitHub answers 204 when it accepted the event
 * (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event).
 *
 * - 204: dispatched.
 * - 429, or 403 with `retry-after` or `x-ratelimit-remaining: 0`: rate limited. Wait for
 *   `retry-after` seconds, else until `x-ratelimit-reset`, else a minute (GitHub: "wait for at
 *   least one minute"), https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately.
 *   Rate limits never use up the retry schedule: a delivery is delayed by them, never dropped.
 * - 5xx, 408, no answer (network, timeout): transient, retried on the schedule.
 * - any other 4xx: dead, with the reason.
 */
export type DispatchVerdict =
  | { readonly kind: 'dispatched' }
  | { readonly kind: 'rate-limited'; readonly untilMs: number; readonly reason: string }
  | { readonly kind: 'transient'; readonly reason: string }
  | { readonly kind: 'dead'; readonly reason: string };

export function classifyDispatchResponse(status: number, headers: Pick<Headers, 'get' | 'has'>, message: string, now: number): DispatchVerdict {
  if (status === 204 || status === 200) return { kind: 'dispatched' };
  const retryAfter = Number(headers.get('retry-after'));
  const remaining = headers.get('x-ratelimit-remaining');
  const reset = Number(headers.get('x-ratelimit-reset'));
  const limited = status === 429 || (status === 403 && (headers.has('retry-after') || remaining === '0'));
  if (limited) {
    const untilMs =
      Number.isFinite(retryAfter) && headers.has('retry-after')
        ? now + retryAfter * 1000
        : remaining === '0' && Number.isFinite(reset) && reset > 0
          ? Math.max(now, reset * 1000)
          : now + 60_000;
    return { kind: 'rate-limited', untilMs, reason: `GitHub rate limit (${status})${message ? `: ${message}` : ''}` };
  }
  if (status >= 500 || status === 408) return { kind: 'transient', reason: `GitHub answered ${status}${message ? `: ${message}` : ''}` };
  return { kind: 'dead', reason: `GitHub answered ${status}${message ? `: ${message}` : ''}` };
}
