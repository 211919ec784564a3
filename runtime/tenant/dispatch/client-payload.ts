/**
 * The `client_payload` of a dispatch. GitHub allows at most 10 top-level properties and less than
 * 64 KB (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event); this one has
 * five, and message references are dropped from the end (`messages_omitted` says how many) when
 * the whole would come near the limit. Never a message body: consumers fetch those themselves.
 */
import type { DeliveryRecord } from './delivery-record.ts';
import type { ZektEvent } from './zekt-event.ts';

/** Stay clear of GitHub's 64 KB with room for the rest of the request body. */
export const maxClientPayloadBytes = 60 * 1024;

/** The provider run an event came from, as every payload Zekt dispatches names it (`provider`, `workflow`, `run`). */
export function providerRunJson(event: ZektEvent) {
  return {
    provider: { repository: event.provider.fullName, repository_id: event.provider.id },
    workflow: { name: event.workflow.name ?? null, path: event.workflow.path ?? null },
    run: {
      id: event.run.id,
      attempt: event.run.attempt,
      conclusion: event.run.conclusion,
      head_branch: event.run.headBranch ?? null,
      head_sha: event.run.headSha ?? null,
      url: event.run.url ?? null,
    },
  };
}

export function buildClientPayload(event: ZektEvent, delivery: DeliveryRecord): Record<string, unknown> {
  const messages = event.messages.map((m) => ({
    id: m.id,
    ...(m.name ? { name: m.name } : {}),
    url: m.url,
    sha256: m.sha256,
    size: m.size,
    expires_at: m.expiresAt,
  }));
  const payload = (kept: typeof messages) => ({
    zekt: { version: 1, event_id: event.id, delivery_id: delivery.id, correlation_id: delivery.correlationId, ...(kept.length < messages.length ? { messages_omitted: messages.length - kept.length } : {}) },
    ...providerRunJson(event),
    messages: kept,
  });
  let kept = messages;
  while (kept.length > 0 && Buffer.byteLength(JSON.stringify(payload(kept))) > maxClientPayloadBytes) kept = kept.slice(0, -1);
  return payload(kept);
}
