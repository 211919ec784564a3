/**
 * The tenant runtime's subscriptions API (behind the platform's short-lived tenant credential):
 * - `GET /api/subscriptions`: per repository, the entries in force, its publish policy, the last
 *   sync and the errors (line, column, message) of a file that was refused;
 * - `POST /api/subscriptions/sync`: sync now — every repository (no body), or one
 *   (`{"repository":"owner/repo"}` or `{"repository_id":N}`); answers with what was synced.
 */
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { BrokerRefusedError } from '../broker-client.ts';
import { GitHubReadError } from './github-reads.ts';
import type { PublishPolicy, Subscription, SubscriptionIndex } from './subscription-index.ts';
import type { RepositorySyncState, SubscriptionSyncState } from './subscription-sync-state.ts';
import { UnknownRepositoryError, type SubscriptionSync, type SyncReport } from './sync-subscriptions.ts';

export interface RepositoryView extends RepositorySyncState {
  readonly subscriptions: readonly Subscription[];
  readonly publish: PublishPolicy | null;
}

const noStore = { 'cache-control': 'no-store' };

/** A refused request body. → 400 */
class BadSyncRequestError extends Error {
  override name = 'BadSyncRequestError';
}

export function createSubscriptionsApi(deps: { index: SubscriptionIndex; state: SubscriptionSyncState; sync: SubscriptionSync }) {
  async function view(file: RepositorySyncState): Promise<RepositoryView> {
    const [subscriptions, publish] = await Promise.all([deps.index.subscriptionsOf(file.repository.id), deps.index.publishPolicyOf(file.repository.id)]);
    return { ...file, subscriptions, publish: publish ?? null };
  }
  const report = async (r: SyncReport) => ({ installations: r.installations, repositories: await Promise.all(r.repositories.map(view)), removed: r.removed });

  function parseBody(text: string): { id: number } | { fullName: string } | undefined {
    if (!text.trim()) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new BadSyncRequestError('the body must be JSON', { cause: err });
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadSyncRequestError('the body must be a JSON object');
    const { repository, repository_id: id, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new BadSyncRequestError(`unknown field(s): ${Object.keys(rest).join(', ')}`);
    if (repository !== undefined && id !== undefined) throw new BadSyncRequestError('give repository or repository_id, not both');
    if (typeof repository === 'string' && /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(repository)) return { fullName: repository };
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return { id };
    if (repository === undefined && id === undefined) return undefined;
    throw new BadSyncRequestError('repository must be owner/repo and repository_id a positive integer');
  }

  const failure = (err: unknown): HttpResponseInit | undefined => {
    if (err instanceof BadSyncRequestError) return { status: 400, headers: noStore, jsonBody: { error: err.message } };
    if (err instanceof UnknownRepositoryError) return { status: 404, headers: noStore, jsonBody: { error: err.message } };
    if (err instanceof BrokerRefusedError || err instanceof GitHubReadError) return { status: 502, headers: noStore, jsonBody: { error: `GitHub could not be read: ${err.message}` } };
    return undefined;
  };

  const list: HttpHandler = async () => {
    const [installations, lastFullSync, files] = await Promise.all([deps.state.installations(), deps.state.lastFullSync(), deps.state.files()]);
    const repositories = await Promise.all(files.sort((a, b) => a.repository.fullName.localeCompare(b.repository.fullName)).map(view));
    return { status: 200, headers: noStore, jsonBody: { installations, lastFullSync: lastFullSync ?? null, repositories } };
  };

  const sync: HttpHandler = async (request, context) => {
    try {
      const which = parseBody(await request.text());
      const result = which ? await deps.sync.syncRepository(which) : await deps.sync.syncAll();
      return { status: 200, headers: noStore, jsonBody: await report(result) };
    } catch (err) {
      const response = failure(err);
      if (response) return response;
      context.error('subscriptions sync failed', err);
      return { status: 500, headers: noStore, jsonBody: { error: 'internal error' } };
    }
  };

  return { list, sync };
}
