/**
 * The benchmark's handle on GitHub's side (github-side.ts), started as a child process: the
 * double's URLs and App, and one method per command it takes. Answers come back by id, so calls
 * may overlap (the drain waits while nothing else runs, the cost stage sends while it waits).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GitHubAppCredentials } from '../../local/github-double/github-double-types.ts';
import type { AddInstallationInput } from '../../local/github-double/state.ts';
import type { SecondaryRateBudget } from '../../local/github-double/secondary-rate-limit.ts';

/** The runs one `sendRuns` sent: their ids, when each went, how many the platform refused. */
export interface SentRuns {
  readonly firstRunId: number;
  readonly lastRunId: number;
  readonly sentAt: ReadonlyMap<number, number>;
  readonly refused: number;
  readonly lastSentAt: number;
  readonly count: number;
}

export interface GitHubSide {
  readonly pid: number;
  readonly apiUrl: string;
  readonly webUrl: string;
  readonly oidcIssuer: string;
  readonly app: GitHubAppCredentials;
  setWebhookUrl(url: string): Promise<void>;
  setSecondaryRateBudget(change: Partial<SecondaryRateBudget>): Promise<void>;
  addInstallation(input: AddInstallationInput): Promise<{ id: number }>;
  setFile(repository: string, filePath: string, content: string): Promise<void>;
  /** Sends `installation.created` for the installation; answers the platform's status code. */
  sendInstallationCreated(installationId: number): Promise<number>;
  /** `rate` completed runs a second of `repository` for `seconds`, paced in the child. */
  sendRuns(repository: string, rate: number, seconds: number): Promise<SentRuns>;
  /** Whether `count` dispatches of the runs arrived within `timeoutMs`. */
  waitForDispatches(runs: SentRuns, count: number, timeoutMs: number): Promise<boolean>;
  /** The dispatches of the runs the double accepted: the run, and when (epoch ms). */
  dispatches(runs: SentRuns): Promise<{ runId: number; receivedAt: number }[]>;
  stop(): Promise<void>;
}

interface Ready {
  apiUrl: string;
  webUrl: string;
  oidcIssuer: string;
  app: GitHubAppCredentials;
}

export async function startGitHubSide(): Promise<GitHubSide> {
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'github-side.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 1;
  const ready = new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => {
      const gone = new Error(`the GitHub side exited (${code})`);
      reject(gone);
      for (const w of waiting.values()) w.reject(gone);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: Ready; id?: number; result?: unknown; error?: string };
      if (message.ready) return resolve(message.ready);
      const w = waiting.get(message.id as number);
      waiting.delete(message.id as number);
      if (message.error !== undefined) w?.reject(new Error(`GitHub side: ${message.error}`));
      else w?.resolve(message.result);
    });
  });
  const call = <T>(op: string, args: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  const started = await ready;
  return {
    pid: child.pid as number,
    ...started,
    setWebhookUrl: (url) => call('setWebhookUrl', { url }),
    setSecondaryRateBudget: (change) => call('setSecondaryRateBudget', { change }),
    addInstallation: (input) => call('addInstallation', { input }),
    setFile: (repository, filePath, content) => call('setFile', { repository, path: filePath, content }),
    sendInstallationCreated: async (installationId) => (await call<{ statusCode: number }>('sendInstallationCreated', { installationId })).statusCode,
    async sendRuns(repository, rate, seconds) {
      const sent = await call<Omit<SentRuns, 'sentAt'> & { sentAt: Record<string, number> }>('sendRuns', { repository, rate, seconds });
      return { ...sent, sentAt: new Map(Object.entries(sent.sentAt).map(([runId, at]) => [Number(runId), at])) };
    },
    waitForDispatches: (runs, count, timeoutMs) => call('waitForDispatches', { first: runs.firstRunId, last: runs.lastRunId, count, timeoutMs }),
    dispatches: (runs) => call('dispatches', { first: runs.firstRunId, last: runs.lastRunId }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
