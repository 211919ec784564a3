/**
 * One call to Zekt with a fresh OIDC token per attempt (Zekt spends each token's `jti` once), and
 * retries of transient failures only: a network error, 429, 500, 502, 503, 504. Any other answer
 * ends the step with the server's own error text. Neither the token nor a body is ever printed.
 */
import * as core from '@actions/core';

export class ZektCallError extends Error {
  override name = 'ZektCallError';
}

export interface ZektCall {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly audience: string;
  readonly body?: string;
  /** Seconds before each retry. */
  readonly retryDelays: readonly number[];
  /** What the step is doing, for log lines. */
  readonly what: string;
}

const transient = new Set([429, 500, 502, 503, 504]);

export async function callZekt(call: ZektCall): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  for (let attempt = 0; ; attempt++) {
    // getIDToken registers the token as a secret (`::add-mask::`), so the runner masks it everywhere.
    const token = await core.getIDToken(call.audience);
    let outcome: string;
    try {
      const response = await fetch(call.url, {
        method: call.method,
        headers: { authorization: `Bearer ${token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(call.body === undefined ? {} : { body: call.body }),
        signal: AbortSignal.timeout(30_000),
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      if (response.ok) return { status: response.status, bytes, headers: response.headers };
      const error = errorOf(bytes) ?? `HTTP ${response.status}`;
      if (!transient.has(response.status)) throw new ZektCallError(`${call.what} refused (${response.status}): ${error}`);
      outcome = `${response.status} ${error}`;
    } catch (err) {
      if (err instanceof ZektCallError) throw err;
      outcome = err instanceof Error ? err.message : String(err);
    }
    const delay = call.retryDelays[attempt];
    if (delay === undefined) throw new ZektCallError(`${call.what} failed after ${attempt + 1} attempts: ${outcome}`);
    core.info(`${call.what}: ${outcome}; retrying in ${delay} s`);
    await new Promise((resolve) => setTimeout(resolve, delay * 1000));
  }
}

/** The server's `{ "error": "…" }`, or nothing (a body is never echoed). */
function errorOf(bytes: Buffer): string | undefined {
  try {
    const error = (JSON.parse(bytes.toString('utf8')) as { error?: unknown }).error;
    return typeof error === 'string' ? error.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

export function retryDelaysOf(input: string): number[] {
  const delays = input.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (delays.some((d) => !Number.isFinite(d) || d < 0 || d > 300)) throw new ZektCallError('retry-delays must be comma-separated seconds (0-300)');
  return delays;
}
