/**
 * GitHub's secondary rate limits, per installation, as GitHub documents them
 * (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits):
 *
 * - at most 80 content-creating requests a minute and 500 an hour;
 * - at most 900 points a minute on REST endpoints, a GET (or HEAD, OPTIONS) costing 1 point and a
 *   POST, PATCH, PUT or DELETE 5.
 *
 * Past a limit GitHub answers 403 (sometimes 429) with a `retry-after` header: the seconds until the
 * request would be allowed. The windows slide (GitHub does not say how it counts; a sliding window
 * is the strictest reading, so a client that passes here passes on GitHub). Requests refused by the
 * limit are not counted. Budgets can be lowered, for every installation or one, so a test can watch
 * a client drain a burst under a small budget.
 */
import { GitHubApiError } from './github-api-error.ts';

export interface SecondaryRateBudget {
  /** Content-creating requests a minute (GitHub: 80). */
  readonly contentCreatingPerMinute: number;
  /** Content-creating requests an hour (GitHub: 500). */
  readonly contentCreatingPerHour: number;
  /** Points a minute (GitHub: 900; a GET costs 1, a POST, PATCH, PUT or DELETE 5). */
  readonly pointsPerMinute: number;
}

export const githubSecondaryRateBudget: SecondaryRateBudget = {
  contentCreatingPerMinute: 80,
  contentCreatingPerHour: 500,
  pointsPerMinute: 900,
};

const minuteMs = 60_000;
const hourMs = 3_600_000;
const mutatingMethods = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const secondaryDocs = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits';

export interface SecondaryRateLimiter {
  /**
   * Counts one request of an installation; returns the refusal (with `retry-after` seconds) when a
   * budget is spent. `contentCreating` marks requests that create content (a dispatch, a comment…).
   */
  consume(installationId: number, method: string, contentCreating: boolean, requestId: string): { refusal?: GitHubApiError; retryAfter?: number };
  /** Sets the budget of every installation (without `installationId`) or of one; returns it. */
  setBudget(change: Partial<SecondaryRateBudget>, installationId?: number): SecondaryRateBudget;
  /** The budget in force for an installation (or the default one). */
  budget(installationId?: number): SecondaryRateBudget;
  /** Forgets what was counted (budgets stay). */
  reset(): void;
}

interface Counted {
  /** Times of content-creating requests, oldest first. */
  readonly content: number[];
  /** Time and cost of every request, oldest first. */
  readonly points: { at: number; cost: number }[];
}

/** Thrown for a budget that is not a positive whole number. */
export class InvalidRateBudgetError extends Error {
  override name = 'InvalidRateBudgetError';
}

export function createSecondaryRateLimiter(options: { now: () => number; budget?: Partial<SecondaryRateBudget> }): SecondaryRateLimiter {
  let defaults: SecondaryRateBudget = checked({ ...githubSecondaryRateBudget, ...options.budget });
  const perInstallation = new Map<number, SecondaryRateBudget>();
  const counts = new Map<number, Counted>();

  const budgetOf = (installationId?: number) =>
    (installationId === undefined ? undefined : perInstallation.get(installationId)) ?? defaults;

  return {
    consume(installationId, method, contentCreating, requestId) {
      const now = options.now();
      const budget = budgetOf(installationId);
      const counted = counts.get(installationId) ?? { content: [], points: [] };
      counts.set(installationId, counted);
      while (counted.content.length > 0 && (counted.content[0] as number) <= now - hourMs) counted.content.shift();
      while (counted.points.length > 0 && (counted.points[0] as { at: number }).at <= now - minuteMs) counted.points.shift();
      const cost = mutatingMethods.has(method.toUpperCase()) ? 5 : 1;

      // Each limit: how long until enough of the window has passed for this request to fit.
      const waits: number[] = [];
      if (contentCreating) {
        const lastMinute = counted.content.filter((t) => t > now - minuteMs);
        if (lastMinute.length >= budget.contentCreatingPerMinute) {
          waits.push((lastMinute[lastMinute.length - budget.contentCreatingPerMinute] as number) + minuteMs - now);
        }
        if (counted.content.length >= budget.contentCreatingPerHour) {
          waits.push((counted.content[counted.content.length - budget.contentCreatingPerHour] as number) + hourMs - now);
        }
      }
      let spent = counted.points.reduce((sum, p) => sum + p.cost, 0);
      if (spent + cost > budget.pointsPerMinute) {
        for (const p of counted.points) {
          spent -= p.cost;
          if (spent + cost <= budget.pointsPerMinute) {
            waits.push(p.at + minuteMs - now);
            break;
          }
        }
      }
      if (waits.length > 0) {
        const retryAfter = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
        return {
          retryAfter,
          refusal: new GitHubApiError(
            403,
            `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
            secondaryDocs,
          ),
        };
      }
      if (contentCreating) counted.content.push(now);
      counted.points.push({ at: now, cost });
      return {};
    },

    setBudget(change, installationId) {
      if (installationId === undefined) {
        defaults = checked({ ...defaults, ...change });
        return defaults;
      }
      const next = checked({ ...budgetOf(installationId), ...change });
      perInstallation.set(installationId, next);
      return next;
    },

    budget: budgetOf,

    reset() {
      counts.clear();
    },
  };
}

function checked(budget: SecondaryRateBudget): SecondaryRateBudget {
  for (const [name, value] of Object.entries(budget)) {
    // A POST costs 5 points: a smaller points budget would refuse every POST forever.
    const least = name === 'pointsPerMinute' ? 5 : 1;
    if (!Number.isInteger(value) || (value as number) < least) throw new InvalidRateBudgetError(`${name} must be a whole number of at least ${least}`);
  }
  return budget;
}
