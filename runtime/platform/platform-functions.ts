/**
 * The platform's function table: every function of the shared platform app, declared once.
 * Served by the Azure Functions host (`runtime/azure/platform-app.ts`) and the local host.
 */
import type { FunctionDefinition, FunctionTable, QueueHandler } from '../functions/function-table.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { Logger } from '../core/logger.ts';
import type { ZektConfig } from '../config.ts';
import { createHealthHandler } from './health.ts';

export interface PlatformDeps {
  readonly config: ZektConfig;
  readonly storage: Storage;
  readonly log: Logger;
  readonly version: string;
  /**
   * The control plane's provisioning worker (automation/provisioning-worker.ts), where this app
   * hosts it; injected so the runtime does not import the Automation API.
   */
  readonly provisioning?: QueueHandler;
  /** The ingress and identity functions (create-platform-parts.ts), where configured. */
  readonly parts?: { readonly functions: readonly FunctionDefinition[] };
}

export function createPlatformFunctions(deps: PlatformDeps): FunctionTable {
  return [
    {
      kind: 'http',
      name: 'health',
      route: 'health',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: createHealthHandler(deps),
    },
    ...(deps.provisioning
      ? [{ kind: 'queue' as const, name: 'provisioning', queueName: 'provisioning', handler: deps.provisioning }]
      : []),
    ...(deps.parts?.functions ?? []),
  ];
}
