/**
 * Server-side sessions. The browser holds only a random 32-byte id in an HttpOnly cookie; the row
 * (keyed by the id's hash) holds the GitHub user, a CSRF token, and the user's GitHub token sealed
 * with the platform's session key — kept no longer than the session or the token, whichever ends
 * first, and never returned by any endpoint.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { SecretBox } from '../core/secret-box.ts';
import { statusOf } from '../storage/status-of.ts';

const partition = 'session';
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface SessionUser {
  readonly id: number;
  readonly login: string;
}

export interface Session {
  readonly key: string;
  readonly user: SessionUser;
  readonly csrfToken: string;
  readonly expiresAt: string;
  /** The user's GitHub token, unsealed on demand; undefined once it expired. */
  githubToken(): string | undefined;
}

type SessionEntity = {
  partitionKey: string;
  rowKey: string;
  userId: number;
  login: string;
  csrf: string;
  token: string;
  tokenExpiresAt: string;
  expiresAt: string;
};

export function createSessionStore(table: TableClient, box: SecretBox, options: { ttlMs: number; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return {
    /** Creates a fresh session (a new id at every sign-in, so an old id never gains rights). */
    async create(user: SessionUser, githubToken: string, tokenExpiresAt: Date | undefined): Promise<{ id: string; session: Session }> {
      const id = randomBytes(32).toString('base64url');
      const key = sha256(id);
      const expiresAt = new Date(now().getTime() + options.ttlMs);
      const tokenEnd = tokenExpiresAt && tokenExpiresAt < expiresAt ? tokenExpiresAt : expiresAt;
      const entity: SessionEntity = {
        partitionKey: partition,
        rowKey: key,
        userId: user.id,
        login: user.login,
        csrf: randomBytes(32).toString('base64url'),
        token: box.seal(githubToken, `session-token:${key}`),
        tokenExpiresAt: tokenEnd.toISOString(),
        expiresAt: expiresAt.toISOString(),
      };
      await table.createEntity(entity);
      return { id, session: toSession(entity) };
    },
    async get(id: string | undefined): Promise<Session | undefined> {
      if (!id || id.length > 100) return undefined;
      try {
        const entity = await table.getEntity<SessionEntity>(partition, sha256(id));
        if (Date.parse(entity.expiresAt) <= now().getTime()) {
          await table.deleteEntity(partition, entity.rowKey).catch(() => undefined);
          return undefined;
        }
        return toSession(entity);
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async destroy(session: Session): Promise<void> {
      await table.deleteEntity(partition, session.key).catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
    },
  };

  function toSession(e: SessionEntity): Session {
    return {
      key: e.rowKey,
      user: { id: Number(e.userId), login: e.login },
      csrfToken: e.csrf,
      expiresAt: e.expiresAt,
      githubToken: () => (Date.parse(e.tokenExpiresAt) > now().getTime() ? box.open(e.token, `session-token:${e.rowKey}`) : undefined),
    };
  }
}

export type SessionStore = ReturnType<typeof createSessionStore>;
