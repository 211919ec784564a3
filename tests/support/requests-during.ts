/**
 * The HTTP requests this process makes while `during` runs, as Node's `http.client.request.start`
 * diagnostics channel reports them (the Azure SDK's storage requests go through node:http): a
 * test counts what a piece of code asked of storage without wrapping its clients.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export interface SeenRequest {
  readonly method: string;
  /** The path without its query, percent-decoded. */
  readonly path: string;
}

export async function requestsDuring(during: () => Promise<void>): Promise<SeenRequest[]> {
  const seen: SeenRequest[] = [];
  const onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    seen.push({ method: request.method, path: decodeURIComponent(request.path.split('?')[0] ?? '') });
  };
  subscribe('http.client.request.start', onRequest);
  try {
    await during();
  } finally {
    unsubscribe('http.client.request.start', onRequest);
  }
  return seen;
}
