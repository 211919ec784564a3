/**
 * Registers a function table with the Azure Functions v4 programming model. `@azure/functions` is
 * CommonJS, so its default export is used (named ESM imports of it fail). host.json's route prefix
 * is empty so the console's pages can sit at the root; API routes get their `api/` here.
 */
import azureFunctions from '@azure/functions';
import type { FunctionTable } from '../functions/function-table.ts';

const { app } = azureFunctions;

export function registerFunctions(table: FunctionTable): void {
  for (const fn of table) {
    switch (fn.kind) {
      case 'http':
        app.http(fn.name, { route: fn.atRoot ? fn.route : `api/${fn.route}`, methods: [...fn.methods], authLevel: fn.authLevel, handler: fn.handler });
        break;
      case 'queue':
        app.storageQueue(fn.name, {
          queueName: fn.queueName,
          // Identity-based connection: AzureWebJobsStorage__queueServiceUri etc. in app settings.
          connection: 'AzureWebJobsStorage',
          handler: (message, context) => fn.handler(message, context),
        });
        break;
      case 'timer':
        app.timer(fn.name, { schedule: fn.schedule, handler: (timer, context) => fn.handler(timer, context) });
        break;
    }
  }
}
