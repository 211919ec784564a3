/**
 * `mode: receive`: the consumer run was started by a Zekt `repository_dispatch`; its event is in
 * `github.event.client_payload.zekt` (docs/action.md). Each referenced message is fetched with the
 * run's own OIDC token — only from the configured `endpoint`, whatever URL the payload names, so a
 * token never goes anywhere else — and checked against its sha-256 digest. Then the receipt links
 * this run to the delivery, and the outputs are set.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { ZektCallError, callZekt, retryDelaysOf } from './http-with-retry.ts';

/** The `client_payload.zekt` of a Zekt delivery. */
export interface ZektEvent {
  readonly event_id: string;
  readonly correlation_id: string;
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
  core.info(`event ${event.event_id} from ${event.provider.repository} run ${event.provider.run_id}: receipt recorded`);

  const chosen = (wanted ? texts.find((t) => t.name === wanted) : undefined) ?? texts.find((t) => t.name === '') ?? texts[0];
  if (wanted && chosen?.name !== wanted) throw new ZektCallError(`the event has no message named ${wanted}`);
  core.setOutput('event-id', event.event_id);
  core.setOutput('correlation-id', event.correlation_id);
  core.setOutput('message', chosen?.text ?? '');
  core.setOutput('messages', JSON.stringify(messages));
  core.setOutput('provider-repository', event.provider.repository);
  core.setOutput('provider-run-id', String(event.provider.run_id));
  core.setOutput('conclusion', event.provider.conclusion ?? '');
}

function zektEventOf(payload: unknown): ZektEvent {
  const zekt = (payload as { client_payload?: { zekt?: Partial<ZektEvent> } } | null)?.client_payload?.zekt;
  if (!zekt || typeof zekt.event_id !== 'string' || typeof zekt.provider?.repository !== 'string' || typeof zekt.provider.run_id !== 'number') {
    throw new ZektCallError('this run was not started by a Zekt event (no client_payload.zekt in the repository_dispatch)');
  }
  if (zekt.messages !== undefined && !Array.isArray(zekt.messages)) throw new ZektCallError('client_payload.zekt.messages must be a list');
  return zekt as ZektEvent;
}
