/**
 * Reads the tenant's `.github/zekt.yml` files and puts the accepted ones in force.
 *
 * Every sync starts from what the tenant's installations reach today (one broker token and one
 * `GET /installation/repositories` per installation), so a file can only name repositories of the
 * tenant. Then, per repository: read the file (a token for that one repository), parse, validate,
 * resolve names to ids, and either replace the consumer's subscriptions and the provider's publish
 * policy, or record the errors and leave the previous ones in force. A full sync also forgets
 * repositories that left the installations and drops entries naming them, even from files kept
 * after an error.
 */
import pLimit from 'p-limit';
import type { Logger } from '../../core/logger.ts';
import { BrokerRefusedError, type InstallationToken } from '../broker-client.ts';
import type { TokenRequest } from '../../identity/token-broker.ts';
import type { GitHubReads } from './github-reads.ts';
import { parseZektFile } from './parse-zekt-file.ts';
import { resolveZektFile, type TenantRepositories } from './resolve-zekt-file.ts';
import type { RepositoryRef, SubscriptionIndex } from './subscription-index.ts';
import type { RepositorySyncState, SubscriptionSyncState } from './subscription-sync-state.ts';

/** The repository asked for is not one of the tenant's installations. → 404 at the edge */
export class UnknownRepositoryError extends Error {
  override name = 'UnknownRepositoryError';
}

export interface SubscriptionSyncOptions {
  readonly index: SubscriptionIndex;
  readonly state: SubscriptionSyncState;
  readonly broker: { installationToken(request: TokenRequest): Promise<InstallationToken> };
  readonly github: GitHubReads;
  readonly log: Logger;
  /** Files read at once in a full sync. */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

export interface SyncReport {
  readonly installations: readonly number[];
  readonly repositories: readonly RepositorySyncState[];
  /** Repositories no longer in any installation, whose subscriptions were removed. */
  readonly removed: readonly RepositoryRef[];
}

type Located = { repository: RepositoryRef; installationId: number };

export function createSubscriptionSync(options: SubscriptionSyncOptions) {
  const now = options.now ?? (() => new Date());
  const log = options.log.child({ part: 'subscriptions' });

  /** Every repository of the tenant's installations; installations the broker refuses are forgotten. */
  async function tenantRepositories(): Promise<{ installations: number[]; located: Located[] }> {
    const installations: number[] = [];
    const located: Located[] = [];
    for (const installationId of await options.state.installations()) {
      let token: InstallationToken;
      try {
        token = await options.broker.installationToken({ purpose: 'repositories', installationId });
      } catch (err) {
        // 403/404: uninstalled, or no longer this tenant's. Anything else is not an answer about it.
        if (err instanceof BrokerRefusedError && (err.status === 403 || err.status === 404)) {
          log.info({ installationId, status: err.status }, 'installation no longer the tenant\'s; forgotten');
          await options.state.forgetInstallation(installationId);
          continue;
        }
        throw err;
      }
      installations.push(installationId);
      for (const repository of await options.github.installationRepositories(token.token)) located.push({ repository, installationId });
    }
    return { installations, located };
  }

  async function syncFile(target: Located, repositories: TenantRepositories): Promise<RepositorySyncState> {
    const { repository, installationId } = target;
    const previous = await options.state.fileOf(repository.id);
    const at = now().toISOString();
    const base = {
      repository,
      installationId,
      lastSyncAt: at,
      ...(previous?.acceptedSha !== undefined ? { acceptedSha: previous.acceptedSha } : {}),
      ...(previous?.acceptedAt ? { acceptedAt: previous.acceptedAt } : {}),
    };
    let file: { text: string; sha: string } | undefined;
    try {
      const token = await options.broker.installationToken({ purpose: 'subscriptions', repositoryId: repository.id });
      file = await options.github.zektFile(repository, token.token);
    } catch (err) {
      const state: RepositorySyncState = { ...base, outcome: 'unreadable', errors: previous?.errors ?? [], lastError: (err as Error).message };
      log.warn({ repository: repository.fullName, err: { name: (err as Error).name, message: (err as Error).message } }, 'subscriptions file unreadable; previous subscriptions kept');
      await options.state.recordFile(state);
      return state;
    }
    let state: RepositorySyncState;
    if (!file) {
      await options.index.replaceConsumer(repository, []);
      await options.index.setPublishPolicy({ provider: repository, remove: true });
      state = { repository, installationId, lastSyncAt: at, outcome: 'absent', errors: [] };
    } else {
      const parsed = parseZektFile(file.text);
      const resolved = parsed.ok ? resolveZektFile(parsed, repository, repositories) : parsed;
      if (resolved.ok) {
        await options.index.replaceConsumer(repository, resolved.subscriptions);
        await options.index.setPublishPolicy(resolved.publish ?? { provider: repository, remove: true });
        state = { ...base, outcome: 'accepted', sha: file.sha, acceptedSha: file.sha, acceptedAt: at, errors: [] };
      } else {
        state = { ...base, outcome: 'rejected', sha: file.sha, errors: resolved.errors };
      }
    }
    await options.state.recordFile(state);
    log.info({ repository: repository.fullName, outcome: state.outcome, errors: state.errors.length }, 'subscriptions file synced');
    return state;
  }

  const byName = (located: readonly Located[]): TenantRepositories => new Map(located.map((l) => [l.repository.fullName.toLowerCase(), l.repository]));

  return {
    /** Every repository of the installations; prunes what left them. */
    async syncAll(): Promise<SyncReport> {
      try {
        const { installations, located } = await tenantRepositories();
        const names = byName(located);
        const limit = pLimit(options.concurrency ?? 4);
        const repositories = await Promise.all(located.map((l) => limit(() => syncFile(l, names))));
        const present = new Set(located.map((l) => l.repository.id));
        const removed: RepositoryRef[] = [];
        for (const gone of (await options.state.files()).filter((f) => !present.has(f.repository.id))) {
          await options.index.replaceConsumer(gone.repository, []);
          await options.index.setPublishPolicy({ provider: gone.repository, remove: true });
          await options.state.forgetFile(gone.repository.id);
          removed.push(gone.repository);
        }
        // A file kept after an error may still name a provider that has since left the installations.
        for (const kept of repositories.filter((r) => r.outcome === 'rejected' || r.outcome === 'unreadable')) {
          const entries = await options.index.subscriptionsOf(kept.repository.id);
          const inside = entries.filter((s) => present.has(s.provider.id));
          if (inside.length !== entries.length) await options.index.replaceConsumer(kept.repository, inside);
        }
        await options.state.recordFullSync({ at: now().toISOString(), ok: true });
        return { installations, repositories, removed };
      } catch (err) {
        await options.state.recordFullSync({ at: now().toISOString(), ok: false, error: (err as Error).message });
        throw err;
      }
    },

    /** One repository, by id or full name; names in its file are resolved over today's installations. */
    async syncRepository(which: { id: number } | { fullName: string }): Promise<SyncReport> {
      const { installations, located } = await tenantRepositories();
      const target = located.find((l) => ('id' in which ? l.repository.id === which.id : l.repository.fullName.toLowerCase() === which.fullName.toLowerCase()));
      if (!target) throw new UnknownRepositoryError(`${'id' in which ? `repository ${which.id}` : which.fullName} is not a repository of this tenant's installations`);
      return { installations, repositories: [await syncFile(target, byName(located))], removed: [] };
    },
  };
}

export type SubscriptionSync = ReturnType<typeof createSubscriptionSync>;
