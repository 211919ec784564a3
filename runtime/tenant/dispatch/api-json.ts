/**
 * The JSON the tenant API answers with (snake_case, like GitHub's and the broker's). Documented in
 * docs/orchestration.md; the platform proxy, the CLI and the console read exactly these shapes.
 */
import type { DeliveryRecord } from './delivery-record.ts';
import type { ZektEvent } from './zekt-event.ts';
import { providerRunJson } from './client-payload.ts';

export function eventJson(e: ZektEvent) {
  // The workflow and the run as every dispatch names them; the provider in the API's own shape.
  const { workflow, run } = providerRunJson(e);
  return {
    id: e.id,
    provider: { id: e.provider.id, full_name: e.provider.fullName },
    workflow,
    run,
    messages: e.messages.map((m) => ({ id: m.id, name: m.name ?? null, url: m.url, sha256: m.sha256, size: m.size, expires_at: m.expiresAt })),
    installation_id: e.installationId ?? null,
    created_at: e.createdAt,
    settled_at: e.settledAt ?? null,
    settlement_sequence: e.settlementSequence ?? null,
    summary: e.summary ?? null,
  };
}

export function deliveryJson(d: DeliveryRecord) {
  return {
    id: d.id,
    event_id: d.eventId,
    consumer: { id: d.consumer.id, full_name: d.consumer.fullName },
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    retries: d.retries,
    generation: d.generation,
    correlation_id: d.correlationId,
    last_error: d.lastError ?? null,
    next_attempt_at: d.status === 'queued' ? (d.nextAttemptAt ?? null) : null,
    dispatched_at: d.dispatchedAt ?? null,
    linked_run: d.linkedRun
      ? {
          id: d.linkedRun.id,
          attempt: d.linkedRun.attempt,
          status: d.linkedRun.status,
          conclusion: d.linkedRun.conclusion ?? null,
          url: d.linkedRun.url ?? null,
          via: d.linkedRun.via,
          correlation_id: d.linkedRun.correlationId,
          linked_at: d.linkedRun.linkedAt,
        }
      : null,
    likely_causes: d.likelyCauses ?? null,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}
