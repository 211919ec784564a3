/**
 * Reads a message body with its limits applied while it streams: a `content-length` over the cap
 * is refused before a byte is read, and a body that grows past it (chunked, or a lying header)
 * is cut off at the first chunk beyond, so a large body costs neither memory nor a parse.
 * Nesting is checked on the text before `JSON.parse`, so a deep document never reaches the parser.
 */
import type { HttpRequest } from '@azure/functions';
import { BodyTooLargeError, InvalidMessageError } from './message-errors.ts';
import { PayloadTooLargeError, readBody } from '../../functions/read-body.ts';

export interface JsonBodyLimits {
  readonly maxBytes: number;
  /** Deepest nesting of arrays and objects (a scalar is depth 0, `{}` is 1). */
  readonly maxDepth: number;
}

/** The parsed value and the exact bytes it came from (what is stored and digested). */
export interface JsonBody {
  readonly value: unknown;
  readonly bytes: Buffer;
}

export async function readJsonBody(request: HttpRequest, limits: JsonBodyLimits): Promise<JsonBody> {
  const bytes = await readCapped(request, limits.maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new InvalidMessageError('the message must be UTF-8 JSON', { cause: err });
  }
  if (depthOf(text) > limits.maxDepth) throw new InvalidMessageError(`the message nests deeper than ${limits.maxDepth} levels`);
  try {
    return { value: JSON.parse(text) as unknown, bytes };
  } catch (err) {
    throw new InvalidMessageError('the message must be JSON', { cause: err });
  }
}

/** The shared capped reader (functions/read-body.ts), its refusal in this endpoint's words. */
async function readCapped(request: HttpRequest, maxBytes: number): Promise<Buffer> {
  try {
    return await readBody(request, maxBytes);
  } catch (err) {
    if (err instanceof PayloadTooLargeError) throw new BodyTooLargeError(`a message may be at most ${maxBytes} bytes`, { cause: err });
    throw err;
  }
}

/** Deepest bracket nesting outside strings; a malformed text is left for `JSON.parse` to refuse. */
export function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
