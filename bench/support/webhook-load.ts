/**
 * Signed webhook load for the benchmarks that drive a server over HTTP (bench:ingress, and the
 * floor bench:dispatch prints): the real payloads, a closed loop at a concurrency, an open loop
 * at a fixed rate, one of bench/ingress-server.ts's servers in its own process, and what /proc
 * says a process spent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { workflowJobPayload, workflowRunPayload } from '../../tests/fixtures/index.ts';
import { platformNodeArguments } from '../../runtime/platform/node-arguments.ts';
import { cpuSeconds } from '../process-cpu.ts';

export interface Body {
  event: string;
  body: string;
  signature: string;
}
/** The benchmark's real payloads (workflow_run ~17 KB, workflow_job ~10 KB, one padded to 25 KB), signed with `secret`. */
export async function signedBodies(secret: string): Promise<Body[]> {
  const run = JSON.stringify(workflowRunPayload());
  const job = JSON.stringify(workflowJobPayload());
  const padded = JSON.stringify({ ...workflowRunPayload(), padding: 'x'.repeat(Math.max(0, 25 * 1024 - run.length - 14)) });
  return Promise.all(
    [
      ['workflow_run', run],
      ['workflow_job', job],
      ['workflow_run', padded],
    ].map(async ([event, body]) => ({ event: event as string, body: body as string, signature: await sign(secret, body as string) })),
  );
}

/**
 * Times a process's main thread has gone to sleep waiting for work and been woken (its voluntary
 * context switches, from /proc; NaN where there is none). At a low rate each wake-up costs far
 * more than the work it does here (README, "Performance").
 */
export function wakes(pid: number | undefined): number {
  try {
    return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** CPU ms per delivery each process spent since `before` (their cpuSeconds then), over `count` deliveries. */
export function cpuPerDelivery(pids: readonly (number | undefined)[], before: readonly number[], count: number): number[] {
  return pids.map((pid, i) => ((cpuSeconds(pid) - (before[i] as number)) / count) * 1000);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

export function post(agent: http.Agent, url: URL, b: Body, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(b.body),
          'x-github-event': b.event,
          'x-github-delivery': id,
          'x-hub-signature-256': b.signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(b.body);
  });
}

export async function closedLoop(url: URL, payloads: Body[], concurrency: number, seconds: number): Promise<{ rate: number; count: number; p50: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const b = payloads[i++ % payloads.length] as Body;
        const t = performance.now();
        const status = await post(agent, url, b, randomUUID()).catch(() => 0);
        if (status === 202) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsed, count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

export async function openLoop(url: URL, payloads: Body[], perSecond: number, forSeconds: number, onSent?: (id: string, at: number) => void): Promise<{ p50: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  const total = perSecond * forSeconds;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = randomUUID();
    const t = performance.now();
    onSent?.(id, t);
    pending.push(
      post(agent, url, payloads[n % payloads.length] as Body, id).then(
        (status) => {
          if (status === 202) latencies.push(performance.now() - t);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** One of bench/ingress-server.ts's servers in its own process, with the platform's Node arguments; resolves once it listens. */
export async function startServer(kind: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: URL }> {
  // Every server gets the platform's own Node arguments (runtime/platform/node-arguments.ts).
  const child = spawn(process.execPath, [...platformNodeArguments, '--import', 'tsx', 'bench/ingress-server.ts', kind], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: new URL(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

