/**
 * The settled report: the one `repository_dispatch` a provider that opted in
 * (`publish: { settled_report: true }`) receives when every delivery of one of its events has
 * ended — each consumer with its status, its run's conclusion and its run URL, so a provider
 * workflow fans in across repositories without a runner waiting and polling.
 *
 * GitHub allows at most 10 top-level properties and less than 64 KB in `client_payload`
 * (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event): this one has six,
 * and consumers are dropped from the end (`zekt.consumers_omitted` says how many; `summary` still
 * counts them all) when the whole would come near the limit.
 */
import { maxClientPayloadBytes, providerRunJson } from './client-payload.ts';
import type { DeliveryRecord } from './delivery-record.ts';
import type { SettlementSummary, ZektEvent } from './zekt-event.ts';

/** The `event_type` of every settled report (a provider workflow listens with `types: [zekt.settled]`). */
export const settledReportEventType = 'zekt.settled';

/** The report's id, also what a provider's report workflow puts in its `run-name`. */
export const reportIdOf = (eventId: string, sequence: number) => `zekt-settled.${eventId}.${sequence}`;

const reportIdPattern = /zekt-settled\.\d+-\d+-\d+\.\d+/;

/**
 * Whether a run's title carries a report id: the run was started by a settled report. Zekt makes
 * no event of such a run, or a provider whose consumers subscribe to all its workflows would be
 * sent a report of its report's run, and so on without end.
 */
export const carriesReportId = (title: string | undefined) => Boolean(title && reportIdPattern.test(title));

const statusOrder = ['completed', 'unconfirmed', 'dead'];

/** Counts the deliveries of an event as its settlement summary. */
export function summarize(deliveries: readonly DeliveryRecord[], sequence: number): SettlementSummary {
  const count = (status: string) => deliveries.filter((d) => d.status === status).length;
  const conclusions: Record<string, number> = {};
  for (const d of deliveries) {
    if (d.status !== 'completed') continue;
    const conclusion = d.linkedRun?.conclusion ?? 'unknown';
    conclusions[conclusion] = (conclusions[conclusion] ?? 0) + 1;
  }
  return { sequence, deliveries: deliveries.length, completed: count('completed'), unconfirmed: count('unconfirmed'), dead: count('dead'), conclusions };
}

/** `report` is the report's record (its id and sequence); `deliveries` the event's deliveries as they are now. */
export function buildSettledReportPayload(event: ZektEvent, report: DeliveryRecord, deliveries: readonly DeliveryRecord[]): Record<string, unknown> {
  const sequence = Number(report.id.slice(report.id.lastIndexOf('.') + 1));
  const consumers = [...deliveries]
    .sort((a, b) => statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) || a.consumer.fullName.localeCompare(b.consumer.fullName))
    .map((d) => ({
      repository: d.consumer.fullName,
      repository_id: d.consumer.id,
      delivery_id: d.id,
      status: d.status,
      conclusion: d.linkedRun?.conclusion ?? null,
      run_id: d.linkedRun?.id ?? null,
      run_url: d.linkedRun?.url ?? null,
      error: d.status === 'dead' ? (d.lastError ?? '').slice(0, 200) : null,
    }));
  const payload = (kept: typeof consumers) => ({
    zekt: {
      version: 1,
      kind: 'settled',
      event_id: event.id,
      report_id: report.correlationId,
      sequence,
      settled_at: report.createdAt,
      ...(kept.length < consumers.length ? { consumers_omitted: consumers.length - kept.length } : {}),
    },
    ...providerRunJson(event),
    summary: summarize(deliveries, sequence),
    consumers: kept,
  });
  let kept = consumers;
  while (kept.length > 0 && Buffer.byteLength(JSON.stringify(payload(kept))) > maxClientPayloadBytes) {
    // Halve the overshoot rather than drop one at a time: 200 consumers would be 200 serialisations.
    const over = Buffer.byteLength(JSON.stringify(payload(kept))) - maxClientPayloadBytes;
    const each = Buffer.byteLength(JSON.stringify(kept)) / kept.length;
    kept = kept.slice(0, Math.max(0, kept.length - Math.max(1, Math.ceil(over / each))));
  }
  return payload(kept);
}
