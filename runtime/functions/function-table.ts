/**
 * Zekt's function table: every Azure Function is declared once here (name, trigger, handler) and
 * served by two hosts — the Azure Functions runtime (`runtime/azure/register-functions.ts`) and the
 * local host (`runtime/local-host/`). Handlers are plain functions with the library's own types.
 */
import type { HttpHandler, InvocationContext } from '@azure/functions';

/** Who may call an HTTP function on Azure; the local host serves all levels without keys. */
export type AuthLevel = 'anonymous' | 'function' | 'admin';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface HttpFunction {
  readonly kind: 'http';
  readonly name: string;
  /** Route template under `/api/`, Azure syntax: `tenants/{id}`, optional `{id?}`. */
  readonly route: string;
  /** Served at `/<route>` instead of `/api/<route>`: the console's pages and assets. */
  readonly atRoot?: boolean;
  readonly methods: readonly HttpMethod[];
  readonly authLevel: AuthLevel;
  /**
   * Largest request body in bytes (`defaultMaxBodyBytes` when absent). The local host refuses a
   * larger one with 413 while it streams, before the handler runs; handlers read with the same cap
   * (functions/read-body.ts), which is what holds on the Azure host.
   */
  readonly maxBodyBytes?: number;
  readonly handler: HttpHandler;
}

/** The cap of a route that names none: JSON requests of a browser or a tenant runtime (64 KiB). */
export const defaultMaxBodyBytes = 64 * 1024;

/** Queue handlers get the decoded message: parsed JSON when it is JSON, as the Functions host does. */
export type QueueHandler = (message: unknown, context: InvocationContext) => Promise<void>;

export interface QueueFunction {
  readonly kind: 'queue';
  readonly name: string;
  readonly queueName: string;
  readonly handler: QueueHandler;
}

export type TimerHandler = (timer: { isPastDue: boolean }, context: InvocationContext) => Promise<void>;

export interface TimerFunction {
  readonly kind: 'timer';
  readonly name: string;
  /** NCRONTAB with seconds, as Azure Functions: `0 *\/5 * * * *`. */
  readonly schedule: string;
  readonly handler: TimerHandler;
}

export type FunctionDefinition = HttpFunction | QueueFunction | TimerFunction;

export type FunctionTable = readonly FunctionDefinition[];

/** Fails at start-up (not at the first request) when two functions share a name or a route. */
export function checkFunctionTable(table: FunctionTable): FunctionTable {
  const names = new Set<string>();
  const routes = new Set<string>();
  for (const fn of table) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(fn.name)) throw new Error(`invalid function name "${fn.name}"`);
    if (names.has(fn.name)) throw new Error(`duplicate function name "${fn.name}"`);
    names.add(fn.name);
    if (fn.kind === 'http') {
      for (const method of fn.methods) {
        const key = `${method} ${fn.atRoot ? '' : 'api/'}${fn.route.replace(/\{[^}]+\}/g, '{}')}`;
        if (routes.has(key)) throw new Error(`duplicate route ${key} (function "${fn.name}")`);
        routes.add(key);
      }
    }
  }
  return table;
}
