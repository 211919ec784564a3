/**
 * `zekt events list|show --tenant <id>` — a tenant's Zekt events (one per provider run attempt),
 * newest first, and one event with its deliveries and settled reports, read from the tenant
 * runtime's API (`GET /api/events`, `GET /api/events/{id}`; shapes in docs/orchestration.md).
 */
import { Command } from 'commander';
import { formatTable } from './format-table.ts';
import { runTenantApi, upTo, withTenant, type TenantApiCommandDeps, type TenantOptions } from './tenant-api-command.ts';
import { deliveryRows, deliveryHeaders, type DeliveryJson } from './dispatches-command.ts';

export interface EventJson {
  readonly id: string;
  readonly provider: { readonly full_name: string };
  readonly workflow: { readonly name: string | null; readonly path: string | null };
  readonly run: { readonly id: number; readonly attempt: number; readonly conclusion: string; readonly head_branch: string | null; readonly url: string | null };
  readonly created_at: string;
  readonly settled_at: string | null;
  readonly summary: { readonly deliveries: number; readonly completed: number; readonly unconfirmed: number; readonly dead: number } | null;
}

const workflowOf = (e: EventJson) => e.workflow.path?.split('/').pop() ?? e.workflow.name;
const summaryOf = (e: EventJson) => (e.summary ? `${e.summary.completed} completed, ${e.summary.unconfirmed} unconfirmed, ${e.summary.dead} dead` : null);

export function eventsCommand(deps: TenantApiCommandDeps): Command {
  const command = new Command('events').description("a tenant's Zekt events: one per provider run attempt");

  withTenant(command.command('list').description('events, newest first'))
    .option('--limit <n>', 'at most this many (1-100)', upTo(100), 20)
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(async (opts: TenantOptions & { limit: number; cursor?: string }) =>
      runTenantApi(deps, opts, async (api) => {
        const page = await api.get<{ events: EventJson[]; next_cursor: string | null }>(opts.tenant, 'events', { limit: opts.limit, cursor: opts.cursor });
        if (opts.json) return deps.out(JSON.stringify(page));
        if (page.events.length === 0) return deps.out('no events');
        const rows = page.events.map((e) => [e.id, e.provider.full_name, workflowOf(e), `${e.run.id}/${e.run.attempt}`, e.run.conclusion, e.created_at, e.settled_at ?? 'open']);
        for (const line of formatTable(['EVENT', 'PROVIDER', 'WORKFLOW', 'RUN', 'CONCLUSION', 'CREATED', 'SETTLED'], rows)) deps.out(line);
        if (page.next_cursor) deps.out(`more: --cursor ${page.next_cursor}`);
      }),
    );

  withTenant(command.command('show <eventId>').description('one event with its deliveries and settled reports')).action(
    async (eventId: string, opts: TenantOptions) =>
      runTenantApi(deps, opts, async (api) => {
        const shown = await api.get<{ event: EventJson; deliveries: DeliveryJson[]; settled_reports?: DeliveryJson[] }>(opts.tenant, `events/${encodeURIComponent(eventId)}`);
        if (opts.json) return deps.out(JSON.stringify(shown));
        const e = shown.event;
        const fields: [string, string | number | null][] = [
          ['event', e.id],
          ['provider', e.provider.full_name],
          ['workflow', workflowOf(e) ?? null],
          ['run', `${e.run.id} attempt ${e.run.attempt}: ${e.run.conclusion}${e.run.head_branch ? ` on ${e.run.head_branch}` : ''}`],
          ['run url', e.run.url],
          ['created', e.created_at],
          ['settled', e.settled_at ?? 'open'],
          ['summary', summaryOf(e)],
        ];
        for (const [key, value] of fields) deps.out(`${key.padEnd(10)} ${value ?? '-'}`);
        deps.out('');
        if (shown.deliveries.length === 0) deps.out('no deliveries');
        else for (const line of formatTable(deliveryHeaders, shown.deliveries.map(deliveryRows))) deps.out(line);
        for (const r of shown.settled_reports ?? []) deps.out(`settled report ${r.correlation_id} to ${r.consumer.full_name}: ${r.status}${r.last_error ? ` (${r.last_error})` : ''}`);
      }),
  );

  return command;
}
