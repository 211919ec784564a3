/**
 * OAuth `state` for the sign-in flow: 32 random bytes, single-use, expiring, and bound to the
 * browser that started the flow (a random nonce in an HttpOnly cookie, whose hash is kept with
 * the state). Only hashes are stored; the PKCE verifier is sealed. Taking a state deletes its row
 * under the row's ETag, so two callbacks racing with one state cannot both succeed.
 * https://datatracker.ietf.org/doc/html/rfc9700#section-4.7 (CSRF protection with state)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { SecretBox } from '../core/secret-box.ts';
import { AuthFlowError } from './identity-errors.ts';
import { statusOf } from '../storage/status-of.ts';

const partition = 'state';
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface IssuedState {
  readonly state: string;
  readonly browserNonce: string;
  readonly codeVerifier: string;
}

type StateEntity = { partitionKey: string; rowKey: string; browserHash: string; verifier: string; expiresAt: string };

export function createAuthStateStore(table: TableClient, box: SecretBox, options: { ttlMs: number; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return {
    async issue(codeVerifier: string): Promise<IssuedState> {
      const state = randomBytes(32).toString('base64url');
      const browserNonce = randomBytes(32).toString('base64url');
      await table.createEntity<StateEntity>({
        partitionKey: partition,
        rowKey: sha256(state),
        browserHash: sha256(browserNonce),
        verifier: box.seal(codeVerifier, `pkce:${sha256(state)}`),
        expiresAt: new Date(now().getTime() + options.ttlMs).toISOString(),
      });
      return { state, browserNonce, codeVerifier };
    },
    /** Takes a state exactly once; returns its PKCE verifier. Throws `AuthFlowError` otherwise. */
    async take(state: string | null, browserNonce: string | undefined): Promise<string> {
      if (!state || state.length > 256) throw new AuthFlowError('missing state');
      const key = sha256(state);
      let row: StateEntity & { etag: string };
      try {
        row = await table.getEntity<StateEntity>(partition, key);
      } catch (err) {
        if (statusOf(err) === 404) throw new AuthFlowError('unknown or already used state', { cause: err });
        throw err;
      }
      try {
        await table.deleteEntity(partition, key, { etag: row.etag });
      } catch (err) {
        const status = statusOf(err);
        if (status === 404 || status === 412) throw new AuthFlowError('state already used', { cause: err });
        throw err;
      }
      if (Date.parse(row.expiresAt) <= now().getTime()) throw new AuthFlowError('state expired');
      const expected = Buffer.from(row.browserHash, 'hex');
      const actual = Buffer.from(sha256(browserNonce ?? ''), 'hex');
      if (!browserNonce || !timingSafeEqual(expected, actual)) throw new AuthFlowError('state was issued to another browser');
      return box.open(row.verifier, `pkce:${key}`);
    },
  };
}

export type AuthStateStore = ReturnType<typeof createAuthStateStore>;
