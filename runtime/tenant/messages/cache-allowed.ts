/**
 * Remembers a repository check's `true` answers for a short time: every post, fetch and receipt
 * asks whether the token's repository is the tenant's (a list of the sync state's files) and every
 * post whether it may publish (the publish policy), two table reads per request that almost never
 * change. A `false` answer is never kept, so a repository just installed, or a policy just opened,
 * is allowed at once; a repository removed from the installations, or a policy closed to every
 * consumer, is still allowed for at most `ttlMs` by this instance.
 */
export type RepositoryCheck = (repositoryId: number) => Promise<boolean>;

/** How long an allowed repository stays allowed without asking again (ms). */
export const allowedCacheMs = 30_000;

/** Beyond this many remembered repositories, expired entries are dropped (bounded memory). */
const maxEntries = 10_000;

export function cacheAllowed(check: RepositoryCheck, options: { ttlMs?: number; now?: () => number } = {}): RepositoryCheck {
  const ttlMs = options.ttlMs ?? allowedCacheMs;
  const now = options.now ?? Date.now;
  const allowedUntil = new Map<number, number>();
  return async (repositoryId) => {
    const at = now();
    if ((allowedUntil.get(repositoryId) ?? 0) > at) return true;
    const allowed = await check(repositoryId);
    if (allowed) {
      if (allowedUntil.size >= maxEntries) for (const [id, until] of allowedUntil) if (until <= at) allowedUntil.delete(id);
      allowedUntil.set(repositoryId, at + ttlMs);
    } else {
      allowedUntil.delete(repositoryId);
    }
    return allowed;
  };
}
