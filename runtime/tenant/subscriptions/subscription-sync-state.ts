/**
 * What the tenant knows about reading its `.github/zekt.yml` files, in the same `subscriptions`
 * table as the index (its own partitions, so the index's rows are untouched):
 * - `installation` / `<installationId>`: the installations the tenant has learnt of. Every
 *   delivery the ingress forwards names its installation; an installation the broker refuses
 *   (uninstalled, or bound elsewhere) is forgotten.
 * - `file` / `<repositoryId>`: the last sync of one repository's file — outcome, the blob sha
 *   read and the one accepted, and the errors (line, column, message) its author should see.
 * - `sync` / `all`: the last full sync.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';
import type { FileError } from './parse-zekt-file.ts';
import type { RepositoryRef } from './subscription-index.ts';

export type FileOutcome =
  /** The file validated and its subscriptions are in force. */
  | 'accepted'
  /** The file did not validate or named a repository outside the installations: the previous subscriptions stay. */
  | 'rejected'
  /** The repository has no `.github/zekt.yml`: it subscribes to nothing and publishes to all. */
  | 'absent'
  /** GitHub or the broker failed; nothing changed. */
  | 'unreadable';

export interface RepositorySyncState {
  readonly repository: RepositoryRef;
  readonly installationId: number;
  readonly lastSyncAt: string;
  readonly outcome: FileOutcome;
  /** Blob sha of the file read at the last sync. */
  readonly sha?: string;
  /** Blob sha and time of the file whose subscriptions are in force. */
  readonly acceptedSha?: string;
  readonly acceptedAt?: string;
  readonly errors: readonly FileError[];
  /** Why the file could not be read (`unreadable`). */
  readonly lastError?: string;
}

export interface FullSyncState {
  readonly at: string;
  readonly ok: boolean;
  readonly error?: string;
}

type Row = { partitionKey: string; rowKey: string; value?: string };

export type SubscriptionSyncState = ReturnType<typeof createSubscriptionSyncState>;

export function createSubscriptionSyncState(table: TableClient) {
  async function get<T>(partitionKey: string, rowKey: string): Promise<T | undefined> {
    try {
      return JSON.parse((await table.getEntity<Row>(partitionKey, rowKey)).value ?? 'null') as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
  async function list<T>(partitionKey: string): Promise<{ rowKey: string; value: T }[]> {
    const out: { rowKey: string; value: T }[] = [];
    for await (const row of table.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq '${partitionKey}'` } })) {
      out.push({ rowKey: row.rowKey, value: JSON.parse(row.value ?? 'null') as T });
    }
    return out;
  }
  const put = (partitionKey: string, rowKey: string, value: unknown) =>
    table.upsertEntity({ partitionKey, rowKey, value: JSON.stringify(value) }, 'Replace');
  const remove = (partitionKey: string, rowKey: string) =>
    table.deleteEntity(partitionKey, rowKey).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });

  return {
    async installations(): Promise<number[]> {
      return (await list<unknown>('installation')).map((r) => Number(r.rowKey)).sort((a, b) => a - b);
    },
    /** Idempotent; a merge, so concurrent intakes never conflict. */
    async rememberInstallation(installationId: number, at: Date): Promise<void> {
      await table.upsertEntity({ partitionKey: 'installation', rowKey: String(installationId), value: JSON.stringify({ seenAt: at.toISOString() }) }, 'Merge');
    },
    forgetInstallation: (installationId: number) => remove('installation', String(installationId)),

    fileOf: (repositoryId: number) => get<RepositorySyncState>('file', String(repositoryId)),
    async files(): Promise<RepositorySyncState[]> {
      return (await list<RepositorySyncState>('file')).map((r) => r.value);
    },
    recordFile: (state: RepositorySyncState) => put('file', String(state.repository.id), state),
    forgetFile: (repositoryId: number) => remove('file', String(repositoryId)),

    lastFullSync: () => get<FullSyncState>('sync', 'all'),
    recordFullSync: (state: FullSyncState) => put('sync', 'all', state),
  };
}
