/**
 * The fetch `Request` behind each `HttpRequest` the local host hands a handler, over the body bytes
 * the host has already read.
 *
 * `@azure/functions`' `HttpRequest` keeps a fetch `Request` and delegates `url`, `method`,
 * `headers` and every body read to it. Built from `{ body: { bytes } }` it makes that `Request`
 * with undici (URL parsing, header validation, a body stream that `arrayBuffer()` then drains):
 * about 40 µs a request, a tenth of the webhook intake's CPU under load. This view answers the
 * common reads (`headers`, `arrayBuffer`, `text`, `json`) from the buffer it holds, with the same
 * single-read rule, and builds the real undici `Request` only for the rest (`body` as a stream,
 * `formData`, `blob`, `clone`, `signal`, …), so a handler cannot tell the difference.
 *
 * The library takes this object through its `nativeRequest` init field, the one its own streaming
 * path uses; `tests/foundation/buffered-request.test.ts` pins that contract against the installed version.
 */
import azureFunctions from '@azure/functions';
import type { HttpRequest as HttpRequestType, HttpRequestParams } from '@azure/functions';

const { HttpRequest } = azureFunctions;

export interface BufferedRequestInit {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  /** Empty for requests without a body. */
  readonly body: Buffer;
}

class BufferedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly #bytes: Buffer;
  #used = false;
  #real: Request | undefined;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(init: BufferedRequestInit) {
    this.method = init.method;
    this.url = init.url;
    this.headers = init.headers;
    this.#bytes = init.body;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  #take(): Buffer {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    try {
      const bytes = this.#take();
      // A copy, as fetch gives: the caller owns the returned ArrayBuffer outright.
      return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** Everything else a fetch `Request` offers, from a real one built on first use. */
  real(): Request {
    if (!this.#real) {
      const hasBody = this.#bytes.length > 0 && this.method !== 'GET' && this.method !== 'HEAD';
      this.#real = new Request(this.url, { method: this.method, headers: this.headers, ...(hasBody ? { body: this.#bytes } : {}) });
      // Already read here: its stream must not offer the bytes a second time.
      if (this.#used) this.#real.body?.getReader();
    }
    return this.#real;
  }

  /**
   * The body as a one-chunk stream over the held bytes (what `readBody` reads on the hot path),
   * without building the undici `Request`; reading it counts as reading the body.
   */
  get body(): ReadableStream<Uint8Array> | null {
    // Already read (or a real one exists): the real Request answers, locked as fetch's would be.
    if (this.#real || (this.#used && !this.#stream)) return this.real().body;
    if (this.#bytes.length === 0 || this.method === 'GET' || this.method === 'HEAD') return null;
    return (this.#stream ??= new ReadableStream<Uint8Array>({
      pull: (controller) => {
        if (this.#used) return controller.error(new TypeError('Body is unusable: Body has already been read'));
        this.#used = true;
        controller.enqueue(new Uint8Array(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.length));
        controller.close();
      },
    }));
  }

  blob(): Promise<Blob> {
    return this.real().blob();
  }

  formData(): Promise<FormData> {
    return this.real().formData();
  }

  clone(): Request {
    return this.real().clone();
  }
}

/** An `@azure/functions` `HttpRequest` over bytes already read, without building an undici `Request`. */
export function createBufferedHttpRequest(
  init: BufferedRequestInit & { readonly query: URLSearchParams; readonly params: HttpRequestParams },
): HttpRequestType {
  const nativeRequest = new BufferedRequest(init);
  // `nativeRequest` is the library's own (untyped) init field; `query` and `params` as usual.
  const requestInit = { nativeRequest, query: Object.fromEntries(init.query), params: init.params };
  return new HttpRequest(requestInit as unknown as ConstructorParameters<typeof HttpRequest>[0]);
}
