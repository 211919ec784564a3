/**
 * Reads a request body no larger than a cap, stopping while it streams: a declared
 * `Content-Length` over the cap is refused before a byte is read, and a chunked body (no length)
 * is cut off as soon as it passes the cap, so an unauthenticated sender cannot make a handler hold
 * more than `maxBytes`. Both hosts hand handlers a fetch-style body stream (the local host's is
 * over bytes it already read within the route's own cap; see local-host/serve-http.ts).
 */
import type { HttpRequest } from '@azure/functions';

/** The body is larger than the route's cap. → 413 */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** Refuses a declared length over the cap (no read at all). */
export function checkDeclaredLength(contentLength: string | null, maxBytes: number): void {
  const declared = Number(contentLength ?? '0');
  if (declared > maxBytes) throw new PayloadTooLargeError(`body of ${declared} bytes exceeds ${maxBytes}`);
}

/** Reads a web stream into one buffer, cancelling it once it passes `maxBytes`. */
export async function readStreamWithin(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? Buffer.from((chunks[0] as Uint8Array).buffer, (chunks[0] as Uint8Array).byteOffset, size) : Buffer.concat(chunks, size);
}

/** The body of `request`, at most `maxBytes`; `PayloadTooLargeError` otherwise. */
export async function readBody(request: HttpRequest, maxBytes: number): Promise<Buffer> {
  checkDeclaredLength(request.headers.get('content-length'), maxBytes);
  return readStreamWithin(request.body, maxBytes);
}

/** The body as text (UTF-8), at most `maxBytes`. */
export async function readText(request: HttpRequest, maxBytes: number): Promise<string> {
  return (await readBody(request, maxBytes)).toString('utf8');
}
