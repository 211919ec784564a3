/**
 * The fault suite's load generator, a process of its own (as GitHub is): the platform's event loop
 * then serves the platform only, and a request that goes unanswered is the platform's, not the
 * generator's. Reads its plan from stdin as JSON ({ url, secret, count, ratePerSecond,
 * duplicateShare, faultAt }), signs every delivery before the clock starts, sends them at the fixed
 * rate with GitHub's 10 s timeout, and writes JSON lines: `started`, `fault` (once delivery
 * `faultAt` was sent), then `result` with every answer counted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from '@octokit/webhooks-methods';
import { workflowJobPayload, workflowRunPayload } from '../fixtures/index.ts';

export interface LoadPlan {
  readonly url: string;
  readonly secret: string;
  readonly count: number;
  readonly ratePerSecond: number;
  readonly duplicateShare: number;
  /** Index of the delivery after which the parent injects its fault; -1 for none. */
  readonly faultAt: number;
}

export interface LoadAnswers {
  /** Delivery id → how many times it was answered 202. */
  readonly accepted: Record<string, number>;
  /** Answers that were not 202/200, or no answer within 10 s. */
  readonly refused: number;
  readonly reasons: Record<string, number>;
  /** Per 5 s of the load: answered (202/200), refused, and how late the generator sent at worst. */
  readonly timeline: { readonly fromSecond: number; readonly ok: number; readonly refused: number; readonly lateMs: number }[];
}

interface Delivery {
  readonly id: string;
  readonly event: string;
  readonly body: string;
  readonly signature: string;
}

const emit = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function readPlan(): Promise<LoadPlan> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadPlan;
}

async function makeDeliveries(plan: LoadPlan): Promise<Delivery[]> {
  const list: Delivery[] = [];
  for (let i = 0; i < plan.count; i++) {
    // A repeat is an earlier delivery sent again, id and signature unchanged (GitHub's redelivery).
    const repeat = list.length > 10 && (i * 7919) % 100 < plan.duplicateShare * 100;
    if (repeat) {
      list.push(list[(i * 104729) % list.length] as Delivery);
      continue;
    }
    const event = i % 2 ? 'workflow_job' : 'workflow_run';
    const payload = event === 'workflow_run' ? workflowRunPayload({ runId: 100_000 + i, installationId: 4242 }) : workflowJobPayload({ installationId: 4242 });
    const body = JSON.stringify(payload);
    list.push({ id: randomUUID(), event, body, signature: await sign(plan.secret, body) });
  }
  return list;
}

async function run(): Promise<void> {
  const plan = await readPlan();
  const deliveries = await makeDeliveries(plan);
  const accepted: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  let refused = 0;
  const timeline = new Map<number, { ok: number; refused: number; lateMs: number }>();
  const bucket = (sinceStartMs: number) => {
    const key = Math.floor(sinceStartMs / 5000);
    const found = timeline.get(key) ?? { ok: 0, refused: 0, lateMs: 0 };
    timeline.set(key, found);
    return found;
  };
  const post = async (d: Delivery, sinceStartMs: number) => {
    let ok = false;
    try {
      const res = await fetch(plan.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': d.event, 'x-github-delivery': d.id, 'x-hub-signature-256': d.signature, 'user-agent': 'GitHub-Hookshot/faults' },
        body: d.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      ok = res.status === 202 || res.status === 200;
      if (res.status === 202) accepted[d.id] = (accepted[d.id] ?? 0) + 1;
      else if (!ok) reasons[String(res.status)] = (reasons[String(res.status)] ?? 0) + 1;
    } catch (err) {
      const reason = `${(err as Error).name}: ${String((err as Error).cause ?? (err as Error).message)}`;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    if (!ok) refused++;
    const b = bucket(sinceStartMs);
    if (ok) b.ok++;
    else b.refused++;
  };
  const inflight: Promise<void>[] = [];
  const start = Date.now();
  emit({ started: true });
  for (let i = 0; i < deliveries.length; i++) {
    const dueMs = (i * 1000) / plan.ratePerSecond;
    const wait = start + dueMs - Date.now();
    if (wait > 0) await sleep(wait);
    const b = bucket(dueMs);
    b.lateMs = Math.max(b.lateMs, Date.now() - start - dueMs);
    inflight.push(post(deliveries[i] as Delivery, dueMs));
    if (i === plan.faultAt) emit({ fault: true });
  }
  await Promise.all(inflight);
  const answers: LoadAnswers = {
    accepted,
    refused,
    reasons,
    timeline: [...timeline].sort(([a], [b]) => a - b).map(([k, b]) => ({ fromSecond: k * 5, ...b, lateMs: Math.round(b.lateMs) })),
  };
  emit({ result: answers });
}

await run();
