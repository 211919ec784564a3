/**
 * The suite-wide token scan. Every HTTP response any server in the test process sends (status line
 * headers, redirects, pages, bodies) and every log line a test logger captures is kept; after the
 * whole suite, none may contain a GitHub token (`gh[opusr]_…`) — except the two places tokens
 * belong: the broker's own response body (`POST /api/tokens`) and the GitHub API double's token
 * endpoints (it plays GitHub). Every console page and asset is scanned too, as shipped (the files)
 * and as served (the console suite requests each one). Loaded as a mocha root-hook plugin.
 */
import http from 'node:http';
import { loadConsoleFiles } from '../../runtime/console/console-functions.ts';

const tokenPattern = /gh[opusr]_[A-Za-z0-9]{20,}/;

interface Captured {
  readonly where: string;
  readonly text: string;
  readonly allowed: boolean;
}

const holder = globalThis as { zektTokenScan?: { captured: Captured[]; logLines: string[] } };
holder.zektTokenScan ??= { captured: [], logLines: [] };
const scan = holder.zektTokenScan;

/** Log destinations of the suite report their lines here (tests/support/logs.ts). */
export function recordLogLine(line: string): void {
  scan.logLines.push(line);
}

const allowedPaths = [/^\/api\/tokens$/, /^\/api\/v3\/app\/installations\/\d+\/access_tokens$/, /^\/login\/oauth\/access_token$/];

function install(): void {
  const proto = http.ServerResponse.prototype as http.ServerResponse & { zektScanInstalled?: boolean };
  if (proto.zektScanInstalled) return;
  proto.zektScanInstalled = true;
  const originalWrite = proto.write;
  const originalEnd = proto.end;
  const bodies = new WeakMap<http.ServerResponse, Buffer[]>();
  const keep = (res: http.ServerResponse, chunk: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const list = bodies.get(res) ?? [];
    list.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    bodies.set(res, list);
  };
  proto.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(this, chunk);
    return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof proto.write;
  proto.end = function (this: http.ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    keep(this, chunk);
    const path = (this.req?.url ?? '').split('?')[0] ?? '';
    const headers = JSON.stringify(this.getHeaders());
    const body = Buffer.concat(bodies.get(this) ?? []).toString('utf8');
    scan.captured.push({ where: `${this.req?.method} ${path} headers`, text: headers, allowed: false });
    scan.captured.push({ where: `${this.req?.method} ${path} body`, text: body, allowed: allowedPaths.some((p) => p.test(path)) });
    return (originalEnd as (...a: unknown[]) => http.ServerResponse).call(this, chunk, ...rest);
  } as typeof proto.end;
}

install();

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    const files = await loadConsoleFiles();
    const leaks = [
      ...[...files].filter(([, file]) => tokenPattern.test(file.body.toString('utf8'))).map(([served]) => `console file served at ${served}`),
      ...scan.captured.filter((c) => !c.allowed && tokenPattern.test(c.text)).map((c) => c.where),
      ...scan.logLines.filter((l) => tokenPattern.test(l)).map((l) => `log line: ${l.slice(0, 200)}`),
    ];
    if (leaks.length) throw new Error(`GitHub tokens leaked into responses or logs:\n  ${leaks.slice(0, 20).join('\n  ')}`);
    // The scan must be able to see a token: wherever the broker answered, its body held one.
    const brokerGrants = scan.captured.filter((c) => c.where === 'POST /api/tokens body' && c.text.includes('"token"'));
    if (brokerGrants.some((c) => !tokenPattern.test(c.text))) throw new Error('token scan: a broker grant without a recognisable token — the pattern is wrong');
    // Where the console was served at all (its suite ran), every page and asset must have been seen.
    const served = new Set(scan.captured.filter((c) => c.where.startsWith('GET ') && c.where.endsWith(' body')).map((c) => c.where.slice(4, -5)));
    if (served.has('/assets/console.js')) {
      const unseen = [...files.keys()].filter((p) => !served.has(p));
      if (unseen.length) throw new Error(`token scan: console files never served in this run: ${unseen.join(', ')}`);
    }
  },
};
