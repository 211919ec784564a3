/**
 * `zekt dispatches list|redeliver --tenant <id>` — a tenant's deliveries of events to consumer
 * repositories (the `repository_dispatch` records of the tenant runtime: `GET /api/deliveries`,
 * `POST /api/deliveries/{id}/redeliver`). Not to be confused with `zekt deliveries`, the GitHub
 * webhooks the shared ingress received.
 */
import { Command, Option } from 'commander';
import { deliveryStatuses } from '../../runtime/tenant/dispatch/delivery-record.ts';
import { formatTable } from './format-table.ts';
import { runTenantApi, upTo, withTenant, type TenantApiCommandDeps, type TenantOptions } from './tenant-api-command.ts';

export interface DeliveryJson {
  readonly id: string;
  readonly event_id: string;
  readonly consumer: { readonly full_name: string };
  readonly event_type: string;
  readonly status: string;
  readonly attempts: number;
  readonly generation: number;
  readonly correlation_id: string;
  readonly last_error: string | null;
  readonly linked_run: { readonly id: number; readonly conclusion: string | null; readonly url: string | null } | null;
}

export const deliveryHeaders = ['DELIVERY', 'CONSUMER', 'STATUS', 'ATTEMPTS', 'GEN', 'RUN', 'CONCLUSION', 'LAST ERROR'];
export const deliveryRows = (d: DeliveryJson) => [
  d.id,
  d.consumer.full_name,
  d.status,
  d.attempts,
  d.generation,
  d.linked_run?.id,
  d.linked_run?.conclusion,
  d.last_error?.split('\n')[0],
];

export function dispatchesCommand(deps: TenantApiCommandDeps): Command {
  const command = new Command('dispatches').description("a tenant's deliveries of events to consumer repositories");

  withTenant(command.command('list').description('deliveries, in delivery id order'))
    .addOption(new Option('--status <status>', 'only this status').choices([...deliveryStatuses]))
    .option('--limit <n>', 'at most this many (1-100)', upTo(100), 20)
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(async (opts: TenantOptions & { status?: string; limit: number; cursor?: string }) =>
      runTenantApi(deps, opts, async (api) => {
        const page = await api.get<{ deliveries: DeliveryJson[]; next_cursor: string | null }>(opts.tenant, 'deliveries', { status: opts.status, limit: opts.limit, cursor: opts.cursor });
        if (opts.json) return deps.out(JSON.stringify(page));
        if (page.deliveries.length === 0) return deps.out('no deliveries');
        for (const line of formatTable(deliveryHeaders, page.deliveries.map(deliveryRows))) deps.out(line);
        if (page.next_cursor) deps.out(`more: --cursor ${page.next_cursor}`);
      }),
    );

  withTenant(command.command('redeliver <deliveryId>').description('dispatch again as a new generation (a fresh correlation id and retry schedule)')).action(
    async (deliveryId: string, opts: TenantOptions) =>
      runTenantApi(deps, opts, async (api) => {
        const { delivery } = await api.post<{ delivery: DeliveryJson }>(opts.tenant, `deliveries/${encodeURIComponent(deliveryId)}/redeliver`);
        if (opts.json) return deps.out(JSON.stringify({ delivery }));
        deps.out(`redelivering ${delivery.id} to ${delivery.consumer.full_name} as generation ${delivery.generation} (${delivery.correlation_id}); status ${delivery.status}`);
      }),
  );

  return command;
}
