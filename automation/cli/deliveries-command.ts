/**
 * `zekt deliveries list|show|replay` — the operator's view of the ingress's delivery records:
 * filter by tenant, status and time; show one with its last error; replay a dead-lettered one.
 * `--json` on every command; exit codes: 0 done, 1 failed, 3 no such delivery, 4 refused.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { deliveryStatuses } from '../../runtime/ingress/delivery-record.ts';
import { DeliveryNotFoundError, type DeliveryQuery } from '../../runtime/ingress/delivery-store.ts';
import { NotReplayableError } from '../../runtime/ingress/replay-delivery.ts';

export interface DeliveriesCommandDeps {
  /** Opened on first use (the CLI reads settings only when a command runs). */
  readonly ingress: () => Promise<{
    deliveries: { query(filter: DeliveryQuery): Promise<DeliveryRecord[]>; get(id: string): Promise<DeliveryRecord> };
    replay(id: string): Promise<DeliveryRecord>;
  }>;
  readonly out: (line: string) => void;
  readonly setExitCode: (code: number) => void;
}

/** Accepts an ISO time or a duration back from now (`30m`, `2h`, `7d`). */
export function parseSince(value: string, now: Date = new Date()): string {
  const relative = /^(\d+)([mhd])$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(relative[1]) * unit).toISOString();
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgumentError('use an ISO time or a duration such as 30m, 2h, 7d');
  return new Date(at).toISOString();
}

/** What an operator sees of a record: everything but the body. */
function summary(r: DeliveryRecord) {
  return {
    deliveryId: r.deliveryId,
    event: r.event,
    ...(r.action ? { action: r.action } : {}),
    status: r.status,
    attempts: r.attempts,
    ...(r.tenantId ? { tenantId: r.tenantId } : {}),
    ...(r.installationId !== undefined ? { installationId: r.installationId } : {}),
    receivedAt: r.receivedAt,
    updatedAt: r.updatedAt,
    ...(r.deliveredAt ? { deliveredAt: r.deliveredAt } : {}),
    ...(r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
    ...(r.lastError ? { lastError: r.lastError } : {}),
    bodyBytes: r.bodyBytes,
    signature: r.signature,
  };
}

export function deliveriesCommand(deps: DeliveriesCommandDeps): Command {
  const command = new Command('deliveries').description('GitHub deliveries received by the shared ingress');

  const fail = (err: unknown, json: boolean) => {
    const code = err instanceof DeliveryNotFoundError ? 3 : err instanceof NotReplayableError ? 4 : 1;
    const message = (err as Error).message;
    deps.out(json ? JSON.stringify({ error: message }) : `error: ${message}`);
    deps.setExitCode(code);
  };

  command
    .command('list')
    .description('list deliveries, oldest first')
    .option('--tenant <id>', 'only this tenant')
    .addOption(new Option('--status <status>', 'only this status').choices([...deliveryStatuses]))
    .option('--since <time>', 'received at or after (ISO time, or 30m / 2h / 7d ago)', (v) => parseSince(v))
    .option('--until <time>', 'received before (ISO time, or 30m / 2h / 7d ago)', (v) => parseSince(v))
    .option('--limit <n>', 'at most this many', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
      return n;
    }, 100)
    .option('--json', 'JSON lines')
    .action(async (opts: { tenant?: string; status?: DeliveryRecord['status']; since?: string; until?: string; limit: number; json?: boolean }) => {
      try {
        const ingress = await deps.ingress();
        const records = await ingress.deliveries.query({
          ...(opts.tenant ? { tenantId: opts.tenant } : {}),
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.since ? { since: opts.since } : {}),
          ...(opts.until ? { until: opts.until } : {}),
          limit: opts.limit,
        });
        if (opts.json) return deps.out(JSON.stringify(records.map(summary)));
        if (records.length === 0) return deps.out('no deliveries');
        for (const r of records) {
          deps.out(
            [r.receivedAt, r.deliveryId, `${r.event}${r.action ? `.${r.action}` : ''}`, r.status, `attempts=${r.attempts}`, r.tenantId ?? '-', r.lastError ?? ''].join('  ').trimEnd(),
          );
        }
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('show <deliveryId>')
    .description('one delivery with its routing state and last error')
    .option('--json', 'JSON')
    .action(async (deliveryId: string, opts: { json?: boolean }) => {
      try {
        const record = summary(await (await deps.ingress()).deliveries.get(deliveryId));
        if (opts.json) return deps.out(JSON.stringify(record));
        for (const [key, value] of Object.entries(record)) deps.out(`${key.padEnd(15)} ${String(value)}`);
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  command
    .command('replay <deliveryId>')
    .description('route a delivery again with a fresh retry budget (the tenant dedupes by delivery id)')
    .option('--json', 'JSON')
    .action(async (deliveryId: string, opts: { json?: boolean }) => {
      try {
        const record = summary(await (await deps.ingress()).replay(deliveryId));
        deps.out(opts.json ? JSON.stringify(record) : `replaying ${record.deliveryId} (${record.event}); status ${record.status}`);
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    });

  return command;
}
