/**
 * GitHub's primary rate limit, per credential, over a fixed one-hour window, reported on every
 * API response in the `x-ratelimit-*` headers
 * (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): 5,000 requests an
 * hour for installations, users and Apps, 60 for unauthenticated requests. Past the limit GitHub
 * answers 403 with `x-ratelimit-remaining: 0`.
 */
import { GitHubApiError } from './github-api-error.ts';

export const authenticatedLimitPerHour = 5000;
export const unauthenticatedLimitPerHour = 60;
const windowMs = 60 * 60 * 1000;
const rateLimitDocs = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';

export interface RateLimitBucket {
  /** `installation ID 123`, `user ID 5`, `app ID 7` or an address: named in GitHub's refusal. */
  readonly key: string;
  readonly limit: number;
}

export interface RateLimiter {
  /** Counts one request; returns the headers to send, and the refusal when the limit is spent. */
  consume(bucket: RateLimitBucket): { headers: Record<string, string>; refusal?: GitHubApiError };
}

export function createRateLimiter(options: { now: () => number }): RateLimiter {
  const windows = new Map<string, { start: number; used: number }>();
  return {
    consume(bucket) {
      const now = options.now();
      let window = windows.get(bucket.key);
      if (!window || now >= window.start + windowMs) {
        window = { start: now, used: 0 };
        windows.set(bucket.key, window);
      }
      const exceeded = window.used >= bucket.limit;
      if (!exceeded) window.used += 1;
      const headers = {
        'x-ratelimit-limit': String(bucket.limit),
        'x-ratelimit-remaining': String(bucket.limit - window.used),
        'x-ratelimit-reset': String(Math.ceil((window.start + windowMs) / 1000)),
        'x-ratelimit-used': String(window.used),
        'x-ratelimit-resource': 'core',
      };
      if (!exceeded) return { headers };
      return { headers, refusal: new GitHubApiError(403, `API rate limit exceeded for ${bucket.key}.`, rateLimitDocs) };
    },
  };
}
