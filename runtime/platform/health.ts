/**
 * `GET /api/health`: proves the path end to end — host, handler, storage. 200 when the platform's
 * storage answers, 503 naming the failed check otherwise. Never returns configuration or secrets.
 */
import type { HttpHandler } from '@azure/functions';
import type { Storage } from '../storage/create-storage.ts';
import { statusOf } from '../storage/status-of.ts';

export function createHealthHandler(deps: { storage: Storage; version: string }): HttpHandler {
  return async (_request, context) => {
    try {
      // One cheap call per service the platform depends on.
      await Promise.all([
        deps.storage.queue('health-probe').exists(),
        deps.storage.container('health-probe').exists(),
        deps.storage.table('healthprobe').listEntities({ queryOptions: { filter: "PartitionKey eq 'none'" } }).byPage({ maxPageSize: 1 }).next()
          .catch((err: unknown) => {
            // A missing table answers 404 — storage is reachable, which is all this checks.
            if (statusOf(err) === 404) return undefined;
            throw err;
          }),
      ]);
      return { status: 200, jsonBody: { status: 'ok', version: deps.version, checks: { storage: 'ok' } } };
    } catch (err) {
      context.error('health check failed', err);
      return { status: 503, jsonBody: { status: 'unavailable', version: deps.version, checks: { storage: 'failed' } } };
    }
  };
}
