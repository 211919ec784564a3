/**
 * The double's own request/response values: handlers take a read request and return a plain
 * response; only `start-github-double.ts` touches `node:http`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Json } from './json.ts';

export interface DoubleRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface DoubleResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `application/json; charset=utf-8`. */
  readonly json?: Json;
  /** Sent as is, with the content type from `headers`. */
  readonly text?: string;
}

/** A header's single value (the first when repeated). */
export function header(request: DoubleRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
