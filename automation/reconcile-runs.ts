/**
 * Reconcile runs: the CLI asks for one (a job on the queue) and waits for its report, which the
 * worker writes here (partition `reconcile` of the tenants table).
 */
import type { TableClient } from '@azure/data-tables';
import type { ReconcileReport } from './reconcile-tenants.ts';
import { statusOf } from '../runtime/storage/status-of.ts';

export interface ReconcileRun {
  readonly runId: string;
  readonly status: 'requested' | 'running' | 'done';
  readonly requestedAt: string;
  readonly report?: ReconcileReport;
}

export interface ReconcileRuns {
  request(runId: string): Promise<void>;
  start(runId: string): Promise<void>;
  finish(report: ReconcileReport): Promise<void>;
  get(runId: string): Promise<ReconcileRun | undefined>;
}

const partition = 'reconcile';

export function createReconcileRuns(options: { readonly table: TableClient; readonly now?: () => Date }): ReconcileRuns {
  const { table } = options;
  const now = options.now ?? (() => new Date());
  let ensured: Promise<void> | undefined;
  const ensureTable = () =>
    (ensured ??= table.createTable().catch((err: unknown) => {
      ensured = undefined;
      throw err;
    }));
  const merge = async (runId: string, fields: Record<string, unknown>) => {
    await ensureTable();
    await table.upsertEntity({ partitionKey: partition, rowKey: runId, ...fields }, 'Merge');
  };
  return {
    request: (runId) => merge(runId, { status: 'requested', requestedAt: now().toISOString() }),
    start: (runId) => merge(runId, { status: 'running' }),
    async finish(report) {
      let text = JSON.stringify(report);
      // A Table string property holds 32K characters; a huge report keeps its outcomes only.
      if (text.length > 30_000) {
        text = JSON.stringify({ ...report, tenants: report.tenants.map((t) => ({ ...t, drifted: t.drifted.slice(0, 3), repaired: t.repaired.slice(0, 3) })) });
      }
      await merge(report.runId, { status: 'done', report: text });
    },
    async get(runId) {
      await ensureTable();
      try {
        const entity = await table.getEntity<Record<string, unknown>>(partition, runId);
        return {
          runId,
          status: entity.status as ReconcileRun['status'],
          requestedAt: entity.requestedAt as string,
          ...(typeof entity.report === 'string' ? { report: JSON.parse(entity.report) as ReconcileReport } : {}),
        };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}
