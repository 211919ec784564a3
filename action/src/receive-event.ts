/**
 * `mode: receive`: the consumer run was started by a Zekt `repository_dispatch`; its event is in
 * `github.event.client_payload.zekt` (docs/action.md). Each referenced message is fetched with the
 * run's own OIDC token — only from the configured `endpoint`, whatever URL the payload names, so a
 * token never goes anywhere else — and checked against its sha-256 digest. Then the receipt links
 * this run to the delivery, and the outputs are set. A follow-up (a message stored after the
 * first dispatch; `client_payload.zekt.follow_up`) is handled like a first delivery — it carries
 * every reference — and says so in the `follow-up` output.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { ZektCallError, callZekt, retryDelaysOf } from './http-with-retry.ts';

/** A Zekt event as this action uses it, read from the dispatch's `client_payload`. */
export interface ZektEvent {
  readonly event_id: string;
  readonly correlation_id: string;
  /** Present on a follow-up: a message the provider run stored after the first dispatch (its id). */
  readonly follow_up?: { readonly message_id: string };
  readonly provider: {
    readonly repository: string;
    readonly repository_id: number;
    readonly run_id: number;
    readonly run_attempt: number;
    readonly workflow?: string;
    readonly conclusion?: string;
    readonly head_branch?: string;
    readonly head_sha?: string;
    readonly run_url?: string;
  };
  readonly messages?: readonly { readonly id: string; readonly name?: string; readonly url: string; readonly sha256: string; readonly size: number; readonly expiresAt: string }[];
}

export async function receiveEvent(): Promise<void> {
  const endpoint = core.getInput('endpoint', { required: true }).replace(/\/$/, '');
  const audience = core.getInput('audience', { required: true });
  const wanted = core.getInput('name');
  const retryDelays = retryDelaysOf(core.getInput('retry-delays') || '1,3,9');
  const eventPath = process.env.GITHUB_EVENT_PATH;
  if (!eventPath) throw new ZektCallError('GITHUB_EVENT_PATH is not set: run this in a workflow');
  const event = zektEventOf(JSON.parse(await readFile(eventPath, 'utf8')) as unknown);

  const messages: Record<string, unknown> = {};
  const texts: { name: string; text: string }[] = [];
  for (const ref of event.messages ?? []) {
    if (!/^[0-9a-f-]{36}$/.test(ref.id)) throw new ZektCallError('the event names a malformed message id');
    const { bytes } = await callZekt({ url: `${endpoint}/${ref.id}`, method: 'GET', audience, retryDelays, what: `fetching message ${ref.id}` });
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== ref.sha256 || bytes.length !== ref.size) throw new ZektCallError(`message ${ref.id} does not match its digest: refusing it`);
    const text = bytes.toString('utf8');
    messages[ref.name ?? 'default'] = JSON.parse(text) as unknown;
    texts.push({ name: ref.name ?? '', text });
    core.info(`message ${ref.id}${ref.name ? ` (${ref.name})` : ''} fetched: ${bytes.length} bytes, digest checked`);
  }

  // `<base>/api/messages` → `<base>/api/receipts`.
  const receipts = endpoint.replace(/\/messages$/, '/receipts');
  await callZekt({ url: receipts, method: 'POST', audience, body: JSON.stringify({ event_id: event.event_id }), retryDelays, what: 'posting the receipt' });
  core.info(`event ${event.event_id}${event.follow_up ? ` (follow-up: message ${event.follow_up.message_id} was stored after the first dispatch)` : ''} from ${event.provider.repository} run ${event.provider.run_id}: receipt recorded`);

  const chosen = (wanted ? texts.find((t) => t.name === wanted) : undefined) ?? texts.find((t) => t.name === '') ?? texts[0];
  if (wanted && chosen?.name !== wanted) throw new ZektCallError(`the event has no message named ${wanted}`);
  core.setOutput('event-id', event.event_id);
  core.setOutput('correlation-id', event.correlation_id);
  core.setOutput('follow-up', event.follow_up ? 'true' : 'false');
  core.setOutput('message', chosen?.text ?? '');
  core.setOutput('messages', JSON.stringify(messages));
  core.setOutput('provider-repository', event.provider.repository);
  core.setOutput('provider-run-id', String(event.provider.run_id));
  core.setOutput('conclusion', event.provider.conclusion ?? '');
}

/** The `client_payload` of a Zekt dispatch as the tenant runtime sends it (docs/action.md). */
interface WirePayload {
  readonly zekt?: { readonly event_id?: unknown; readonly correlation_id?: unknown; readonly follow_up?: { readonly message_id?: unknown } | null };
  readonly provider?: { readonly repository?: unknown; readonly repository_id?: unknown };
  readonly workflow?: { readonly name?: string | null; readonly path?: string | null };
  readonly run?: { readonly id?: unknown; readonly attempt?: number; readonly conclusion?: string | null; readonly head_branch?: string | null; readonly head_sha?: string | null; readonly url?: string | null };
  readonly messages?: unknown;
}

function zektEventOf(payload: unknown): ZektEvent {
  const wire = (payload as { client_payload?: WirePayload } | null)?.client_payload;
  const zekt = wire?.zekt;
  if (!wire || !zekt || typeof zekt.event_id !== 'string' || typeof zekt.correlation_id !== 'string' || typeof wire.provider?.repository !== 'string' || typeof wire.provider.repository_id !== 'number' || typeof wire.run?.id !== 'number') {
    throw new ZektCallError('this run was not started by a Zekt event (no client_payload.zekt in the repository_dispatch)');
  }
  if (wire.messages !== undefined && !Array.isArray(wire.messages)) throw new ZektCallError('client_payload.messages must be a list');
  const optional = (value: string | null | undefined) => (value === null || value === undefined ? {} : { value });
  const { run, workflow } = wire;
  const workflowName = optional(workflow?.name ?? workflow?.path).value;
  const followUp = typeof zekt.follow_up?.message_id === 'string' ? { follow_up: { message_id: zekt.follow_up.message_id } } : {};
  return {
    event_id: zekt.event_id,
    correlation_id: zekt.correlation_id,
    ...followUp,
    provider: {
      repository: wire.provider.repository,
      repository_id: wire.provider.repository_id,
      run_id: run.id as number,
      run_attempt: run.attempt ?? 1,
      ...(workflowName === undefined ? {} : { workflow: workflowName }),
      ...(run.conclusion ? { conclusion: run.conclusion } : {}),
      ...(run.head_branch ? { head_branch: run.head_branch } : {}),
      ...(run.head_sha ? { head_sha: run.head_sha } : {}),
      ...(run.url ? { run_url: run.url } : {}),
    },
    ...(wire.messages ? { messages: wire.messages as ZektEvent['messages'] & object } : {}),
  };
}
