/**
 * The tenant's view of its providers' workflow runs and jobs, in its own `events` table: one row
 * per run (and per job) holding the newest state seen. GitHub sends events out of order, so a row
 * only moves forward — by run attempt, then by status (requested → in_progress → completed),
 * then by `updated_at` — under an ETag guard, so two concurrent writers cannot step it back.
 *
 * A run's or job's first state (`requested`, `queued`, …) usually finds no row: it is created
 * without a read first (one request), and only a refusal (the row exists: a later state came
 * first) reads and compares. Later states usually find the row, so they read first.
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../storage/status-of.ts';

const statusRank: Record<string, number> = {
  requested: 0,
  waiting: 1,
  pending: 1,
  queued: 1,
  in_progress: 2,
  completed: 3,
};

/** The rank of the states a run or job starts in (requested, queued, …). */
const firstStates = 1;

export interface WorkflowState {
  readonly kind: 'run' | 'job';
  readonly repositoryId: number;
  readonly repository: string;
  readonly runId: number;
  readonly jobId?: number;
  readonly runAttempt: number;
  readonly status: string;
  readonly conclusion?: string;
  readonly name?: string;
  readonly headBranch?: string;
  readonly headSha?: string;
  readonly updatedAt: string;
  readonly deliveryId: string;
  /** Runs only: the workflow file (`.github/workflows/release.yml`). */
  readonly path?: string;
  /** Runs only: the run's title (`run-name`), where a consumer run carries its correlation id. */
  readonly displayTitle?: string;
  /** Runs only: the run's page (`html_url`). */
  readonly url?: string;
  /** The installation the webhook came through. */
  readonly installationId?: number;
}

type StateEntity = { partitionKey: string; rowKey: string; state: string; etag?: string };

/** Whether `next` is newer than `current`: attempt, then status, then time. */
export function isNewer(current: WorkflowState, next: WorkflowState): boolean {
  if (next.runAttempt !== current.runAttempt) return next.runAttempt > current.runAttempt;
  const a = statusRank[current.status] ?? 0;
  const b = statusRank[next.status] ?? 0;
  if (a !== b) return b > a;
  return Date.parse(next.updatedAt) > Date.parse(current.updatedAt);
}

export type StoreOutcome = 'stored' | 'stale';

export function createWorkflowEventStore(table: TableClient) {
  const keyOf = (s: WorkflowState) =>
    s.kind === 'run'
      ? { partitionKey: `run-${s.repositoryId}`, rowKey: String(s.runId) }
      : { partitionKey: `job-${s.runId}`, rowKey: String(s.jobId) };

  return {
    /** Keeps `next` if it is newer than what is stored. */
    async record(next: WorkflowState): Promise<StoreOutcome> {
      const key = keyOf(next);
      if ((statusRank[next.status] ?? 0) <= firstStates) {
        try {
          await table.createEntity({ ...key, state: JSON.stringify(next) });
          return 'stored';
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
        }
      }
      for (let attempt = 0; attempt < 10; attempt++) {
        let current: StateEntity | undefined;
        try {
          current = await table.getEntity<StateEntity>(key.partitionKey, key.rowKey);
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
        if (current && !isNewer(JSON.parse(current.state) as WorkflowState, next)) return 'stale';
        try {
          const entity = { ...key, state: JSON.stringify(next) };
          if (current) await table.updateEntity(entity, 'Replace', { etag: current.etag ?? '*' });
          else await table.createEntity(entity);
          return 'stored';
        } catch (err) {
          const status = statusOf(err);
          if (status !== 409 && status !== 412) throw err;
        }
      }
      throw new Error(`could not record ${next.kind} ${next.runId}: too much contention`);
    },
    async getRun(repositoryId: number, runId: number): Promise<WorkflowState | undefined> {
      try {
        const e = await table.getEntity<StateEntity>(`run-${repositoryId}`, String(runId));
        return JSON.parse(e.state) as WorkflowState;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}
