/**
 * Broker tokens for dispatching, one per consumer repository (`purpose: dispatch`: `contents:
 * write` on that repository alone), reused until five minutes before they expire; concurrent asks
 * for one repository share one request to the broker.
 */
import type { InstallationToken } from '../broker-client.ts';
import type { TokenRequest } from '../../identity/token-broker.ts';

/** What the dispatcher needs of the broker client (runtime/tenant/broker-client.ts). */
export interface TokenSource {
  installationToken(request: TokenRequest): Promise<InstallationToken>;
}

const reuseUntilBeforeExpiryMs = 5 * 60_000;

export function createDispatchTokens(source: TokenSource, now: () => number = Date.now) {
  const cache = new Map<number, Promise<InstallationToken>>();
  return {
    forRepository(repositoryId: number): Promise<InstallationToken> {
      const cached = cache.get(repositoryId);
      if (cached) return cached;
      const pending = source.installationToken({ purpose: 'dispatch', repositoryId }).then((token) => {
        const delay = Date.parse(token.expiresAt) - reuseUntilBeforeExpiryMs - now();
        if (delay > 0) setTimeout(() => cache.delete(repositoryId), Math.min(delay, 2 ** 31 - 1)).unref();
        else cache.delete(repositoryId);
        return token;
      });
      cache.set(repositoryId, pending);
      pending.catch(() => cache.delete(repositoryId));
      return pending;
    },
    /** Forgets a token GitHub no longer takes. */
    forget(repositoryId: number): void {
      cache.delete(repositoryId);
    },
  };
}

export type DispatchTokens = ReturnType<typeof createDispatchTokens>;
