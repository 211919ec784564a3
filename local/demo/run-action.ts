/**
 * Runs the bundled Zekt GitHub Action (`action/dist/index.js`) the way a GitHub-hosted runner
 * does: inputs as `INPUT_<NAME>` variables, the triggering event in the file `GITHUB_EVENT_PATH`
 * names, outputs appended to the file `GITHUB_OUTPUT` names (`name<<delimiter` blocks), and the
 * run's OIDC token served from `ACTIONS_ID_TOKEN_REQUEST_URL` with its bearer token.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const actionEntry = fileURLToPath(new URL('../../action/dist/index.js', import.meta.url));

export interface ActionRun {
  readonly inputs: Readonly<Record<string, string>>;
  /** The repository the job runs in (`owner/repo`). */
  readonly repository: string;
  readonly runId: number;
  readonly runAttempt: number;
  readonly idTokenRequestUrl: string;
  readonly idTokenRequestToken: string;
  /** `github.event_name` and the event payload (`repository_dispatch` for a consumer). */
  readonly eventName?: string;
  readonly event?: unknown;
}

export class ActionFailedError extends Error {
  override name = 'ActionFailedError';
}

/** Parses `GITHUB_OUTPUT` as `@actions/core` writes it. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^<=]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

export async function runAction(options: ActionRun): Promise<{ outputs: Record<string, string>; stdout: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zekt-action-'));
  try {
    const outputFile = path.join(dir, 'output');
    const eventFile = path.join(dir, 'event.json');
    await writeFile(outputFile, '');
    await writeFile(eventFile, JSON.stringify(options.event ?? {}));
    const env: Record<string, string> = {
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_EVENT_PATH: eventFile,
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_REPOSITORY: options.repository,
      GITHUB_RUN_ID: String(options.runId),
      GITHUB_RUN_ATTEMPT: String(options.runAttempt),
      RUNNER_TEMP: dir,
      ACTIONS_ID_TOKEN_REQUEST_URL: options.idTokenRequestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: options.idTokenRequestToken,
    };
    // `core.getInput('message-file')` reads INPUT_MESSAGE-FILE: upper-cased, spaces to underscores, hyphens kept.
    for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    try {
      const { stdout } = await run(process.execPath, [actionEntry], { env, timeout: 60_000 });
      return { outputs: parseOutputFile(await readFile(outputFile, 'utf8')), stdout };
    } catch (err) {
      const out = (err as { stdout?: string }).stdout ?? '';
      throw new ActionFailedError(`the Zekt Action failed: ${out.split('\n').filter((l) => l.startsWith('::error')).join(' ') || (err as Error).message}`, { cause: err });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
