/**
 * Structured logs (pino). Every line about a delivery or tenant carries `deliveryId` / `tenantId`
 * as fields (use `log.child({ deliveryId })`). Secrets never reach a log: known secret fields are
 * redacted, and any string that looks like a GitHub token is masked before it is written.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** GitHub token shapes: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and fine-grained `github_pat_`. */
export const githubTokenPattern = /\b(gh[opusr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})/g;

const redactPaths = [
  'token',
  'accessToken',
  'access_token',
  'refresh_token',
  'secret',
  'password',
  'privateKey',
  'clientSecret',
  'connectionString',
  'authorization',
  'cookie',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.secret',
  '*.privateKey',
  '*.clientSecret',
  '*.connectionString',
  '*.authorization',
  '*.cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface CreateLoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream that collects lines. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      redact: { paths: redactPaths, censor: '[redacted]' },
      hooks: {
        // Last line of defence: a token that slipped into a message or an error text is masked.
        streamWrite: (line) => line.replace(githubTokenPattern, (t) => `${t.slice(0, 4)}[redacted]`),
      },
    },
    options.destination,
  );
}

/** A destination that keeps parsed lines in memory (tests assert on them). */
export function createMemoryDestination(): DestinationStream & { lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(chunk: string) {
      raw.push(chunk);
      for (const piece of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(piece) as Record<string, unknown>);
    },
  };
}
