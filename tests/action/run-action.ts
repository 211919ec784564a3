/**
 * Runs the committed bundle the way a runner does: `node action/dist/index.js` with `INPUT_*`,
 * `GITHUB_EVENT_PATH`, `GITHUB_OUTPUT` and `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`.
 *
 * The ID-token request URL is served here by a small `node:http` endpoint that asks the GitHub
 * double for the token (`issueOidcToken`) of the run named in its path. Once the double serves an
 * `idTokenRequestUrl` per run itself, that URL replaces this endpoint.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GitHubDouble } from '../../local/github-double/start-github-double.ts';

const bundle = fileURLToPath(new URL('../../action/dist/index.js', import.meta.url));

export interface RunnerRun {
  readonly repository: string;
  readonly runId: number;
  readonly runAttempt?: number;
}

export interface ActionResult {
  readonly code: number;
  readonly stdout: string;
  readonly outputs: Record<string, string>;
  /** Tokens the runner handed out during the run (so tests can check none was printed). */
  readonly tokens: readonly string[];
}

export interface IdTokenEndpoint {
  run(input: { run: RunnerRun; inputs: Record<string, string>; event?: unknown }): Promise<ActionResult>;
  close(): Promise<void>;
}

export async function startIdTokenEndpoint(double: GitHubDouble): Promise<IdTokenEndpoint> {
  const requestToken = randomBytes(24).toString('base64url');
  let issued: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://runner');
    const match = /^\/token\/([^/]+)\/([^/]+)\/(\d+)\/(\d+)$/.exec(url.pathname);
    const audience = url.searchParams.get('audience');
    if (req.headers.authorization !== `Bearer ${requestToken}` || !match || !audience) {
      res.writeHead(401).end();
      return;
    }
    double
      .issueOidcToken({ repository: `${match[1]}/${match[2]}`, audience, runId: Number(match[3]), runAttempt: Number(match[4]) })
      .then((value) => {
        issued.push(value);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value }));
      })
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    async run({ run, inputs, event }) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'zekt-action-'));
      issued = [];
      try {
        const outputFile = path.join(dir, 'output');
        const eventFile = path.join(dir, 'event.json');
        await writeFile(outputFile, '');
        await writeFile(eventFile, JSON.stringify(event ?? {}));
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          GITHUB_ACTIONS: 'true',
          GITHUB_OUTPUT: outputFile,
          GITHUB_EVENT_PATH: eventFile,
          GITHUB_REPOSITORY: run.repository,
          GITHUB_RUN_ID: String(run.runId),
          GITHUB_RUN_ATTEMPT: String(run.runAttempt ?? 1),
          RUNNER_TEMP: dir,
          ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/token/${run.repository}/${run.runId}/${run.runAttempt ?? 1}?api-version=2.0`,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
        };
        // The runner's naming: `INPUT_` + the input name upper-cased, spaces as underscores.
        for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
        const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
          execFile(process.execPath, [bundle], { env, timeout: 60_000 }, (error, out, err) => {
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: `${out}${err}` });
          });
        });
        return { code, stdout, outputs: parseOutputs(await readFile(outputFile, 'utf8')), tokens: [...issued] };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `name<<delimiter\nvalue\ndelimiter` blocks, as `@actions/core` writes them to GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^([^<]+)<<(.+)$/.exec(lines[i] as string);
    if (!head) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== head[2]; i++) value.push(lines[i] as string);
    outputs[head[1] as string] = value.join('\n');
  }
  return outputs;
}
