/**
 * How fast one client may start sign-ins: at most `perMinute` OAuth states per client address per
 * fixed one-minute window, counted in storage (partition `rate` of the auth-states table, one row
 * per address and window, incremented under its ETag) so every instance of the platform shares
 * the count. Past the limit: `RateLimitedError` (429, `Retry-After` = seconds to the window's end).
 * Rows of ended windows are purged with the abandoned states (purge-sign-in-state.ts).
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { HttpRequest } from '@azure/functions';
import { RateLimitedError } from './identity-errors.ts';
import { statusOf } from '../storage/status-of.ts';

export const ratePartition = 'rate';
const windowMs = 60_000;

type WindowEntity = { partitionKey: string; rowKey: string; count: number; windowEndsAt: string };

/**
 * The client's address: the last hop of `X-Forwarded-For`, the one the platform's own front end
 * appends (earlier entries come from the client and prove nothing). The local host appends the
 * socket's address the same way.
 * https://learn.microsoft.com/azure/app-service/overview-security (requests reach the app through the front ends)
 */
export function clientAddress(request: HttpRequest): string {
  const hops = (request.headers.get('x-forwarded-for') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  return hops.at(-1) ?? 'unknown';
}

export function createLoginRateLimit(table: TableClient, options: { perMinute: number; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return {
    /** Counts one sign-in for `address`; throws `RateLimitedError` past the limit. */
    async take(address: string): Promise<void> {
      const at = now().getTime();
      const windowStart = Math.floor(at / windowMs) * windowMs;
      const windowEndsAt = new Date(windowStart + windowMs).toISOString();
      // The address is hashed: the table keeps no client addresses.
      const rowKey = `${createHash('sha256').update(address).digest('hex').slice(0, 32)}-${windowStart}`;
      for (let attempt = 0; attempt < 10; attempt++) {
        let row: (WindowEntity & { etag: string }) | undefined;
        try {
          row = await table.getEntity<WindowEntity>(ratePartition, rowKey);
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
        if (row && Number(row.count) >= options.perMinute) {
          throw new RateLimitedError('too many sign-ins from this address; try again shortly', Math.max(1, Math.ceil((windowStart + windowMs - at) / 1000)));
        }
        try {
          if (!row) await table.createEntity<WindowEntity>({ partitionKey: ratePartition, rowKey, count: 1, windowEndsAt });
          else await table.updateEntity({ partitionKey: ratePartition, rowKey, count: Number(row.count) + 1, windowEndsAt }, 'Replace', { etag: row.etag });
          return;
        } catch (err) {
          // Another sign-in from the same address counted first: read again.
          const status = statusOf(err);
          if (status !== 409 && status !== 412) throw err;
        }
      }
      throw new RateLimitedError('too many concurrent sign-ins from this address', 1);
    },
  };
}

export type LoginRateLimit = ReturnType<typeof createLoginRateLimit>;
