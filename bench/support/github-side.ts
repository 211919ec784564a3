/**
 * GitHub's side of `npm run bench:dispatch`, in a process of its own: the GitHub API double and
 * the benchmark's sender of completed runs. On Azure the platform's process holds the platform
 * alone; here too, so that its CPU figure (read from /proc) is the platform's own and not shared
 * with the double's webhook sends, its dispatch answers and their sockets.
 *
 * Commands come on stdin, one JSON line each (`{id, op, args}`); each is answered on stdout with
 * `{id, result}` or `{id, error}`. The first line out is `{ready: …}`: the double's URLs and its
 * App's credentials (the parent hands them to the platform as an existing App's settings). The
 * parent's side is github-side-client.ts.
 */
import { createInterface } from 'node:readline';
import { startGitHubDouble } from '../../local/github-double/start-github-double.ts';
import { createLogger } from '../../runtime/core/logger.ts';
import type { AddInstallationInput } from '../../local/github-double/state.ts';
import type { SecondaryRateBudget } from '../../local/github-double/secondary-rate-limit.ts';

const double = await startGitHubDouble({ host: '127.0.0.1', port: 0, log: createLogger({ level: 'silent' }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextRunId = 1000;
const runOf = (d: { clientPayload: unknown }) => (d.clientPayload as { run?: { id?: number } } | undefined)?.run?.id ?? NaN;
const dispatchesOf = (first: number, last: number) => double.dispatches.filter((d) => runOf(d) >= first && runOf(d) <= last);

/** Sends `rate` completed runs a second of `repository` for `seconds`; answers when each was sent, and which runs they were. */
async function sendRuns({ repository, rate, seconds }: { repository: string; rate: number; seconds: number }) {
  // Built before the clock starts: the measured stretch carries only the double's send.
  const events = Array.from({ length: Math.round(rate * seconds) }, () => {
    const runId = nextRunId++;
    return { runId, event: double.payloads.workflowRun({ action: 'completed', repository, runId }) };
  });
  const sentAt: Record<number, number> = {};
  let refused = 0;
  const sends: Promise<void>[] = [];
  const start = Date.now();
  for (const [i, { runId, event }] of events.entries()) {
    const due = start + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    sentAt[runId] = Date.now();
    sends.push(
      double.sendWebhook(event).then(
        (d) => void (d.statusCode >= 300 && refused++),
        () => void refused++,
      ),
    );
  }
  const lastSentAt = Date.now();
  await Promise.all(sends);
  return { firstRunId: events[0]?.runId ?? nextRunId, lastRunId: events[events.length - 1]?.runId ?? nextRunId - 1, sentAt, refused, lastSentAt, count: events.length };
}

type Args = Record<string, unknown>;
const operations: Record<string, (args: Args) => unknown> = {
  setWebhookUrl: ({ url }) => double.setWebhookUrl(url as string),
  setSecondaryRateBudget: ({ change }) => double.setSecondaryRateBudget(change as Partial<SecondaryRateBudget>),
  addInstallation: ({ input }) => ({ id: double.addInstallation(input as AddInstallationInput).id }),
  setFile: ({ repository, path, content }) => double.setFile(repository as string, path as string, content as string),
  sendInstallationCreated: async ({ installationId }) => ({ statusCode: (await double.sendWebhook(double.payloads.installation({ action: 'created', installationId: installationId as number }))).statusCode }),
  sendRuns: (args) => sendRuns(args as { repository: string; rate: number; seconds: number }),
  /** Resolves once `count` dispatches of runs `first`..`last` were accepted (true), or at the timeout (false). */
  waitForDispatches: async ({ first, last, count, timeoutMs }) => {
    const deadline = Date.now() + (timeoutMs as number);
    while (dispatchesOf(first as number, last as number).length < (count as number)) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  },
  /** The accepted dispatches of runs `first`..`last`: which run, and when the double took it (epoch ms). */
  dispatches: ({ first, last }) => dispatchesOf(first as number, last as number).map((d) => ({ runId: runOf(d), receivedAt: Date.parse(d.receivedAt) })),
};

const answer = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
answer({ ready: { apiUrl: double.apiUrl, webUrl: double.webUrl, oidcIssuer: double.oidcIssuer, app: double.app } });
for await (const line of createInterface({ input: process.stdin })) {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: Args };
  const run = operations[op];
  Promise.resolve()
    .then(() => {
      if (!run) throw new Error(`unknown operation ${op}`);
      return run(args);
    })
    .then(
      (result) => answer({ id, result: result ?? null }),
      (err: unknown) => answer({ id, error: (err as Error).message ?? String(err) }),
    );
}
await double.close();
