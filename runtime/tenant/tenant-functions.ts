/**
 * The tenant runtime's function table: the functions each tenant's own Functions app runs
 * (webhook intake from the shared ingress, provider messages, consumer deliveries).
 */
import type { FunctionTable } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import { createHealthHandler } from '../platform/health.ts';

export interface TenantDeps {
  readonly tenantId: string;
  readonly storage: Storage;
  readonly log: Logger;
  readonly version: string;
}

export function createTenantFunctions(deps: TenantDeps): FunctionTable {
  return [
    {
      kind: 'http',
      name: 'tenantHealth',
      route: 'health',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: createHealthHandler(deps),
    },
  ];
}
