/**
 * Benchmarks only (`ZEKT_BENCH_STORAGE_REQUEST_COUNTS`): counts the process's requests to its
 * storage account, by method and resource (`GET events(..)`, `POST queue deliveries`, …), and
 * writes the counts as JSON to a file every second and when the process exits, so a benchmark can
 * divide them by what it delivered. It listens on Node's `http.client.request.start` diagnostics
 * channel (the Azure SDK's requests go through node:http), so nothing in the request path changes.
 * Only requests to the account's own endpoints count (their hosts: `127.0.0.1:<port>` of Azurite,
 * whose paths start with `/<account>/`, or Azure's `<account>.table.core.windows.net`).
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';

export interface StorageRequestCounts {
  readonly pid: number;
  readonly accountName: string;
  /** `<method> <resource>` → requests. */
  readonly counts: Record<string, number>;
}

/** `<table>(PartitionKey=…)` → `<table>(..)`; a queue's messages and one message by id → `queue <name>`. */
export function resourceOf(path: string): string {
  const [first = '', second] = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  if (second === 'messages') return `queue ${first}`;
  return first.replace(/\(.*\)$/, '(..)');
}

export function countStorageRequests(options: { accountName: string; endpoints: readonly string[]; file: string }): void {
  const counts: Record<string, number> = {};
  const hosts = new Set(options.endpoints.map((url) => new URL(url).host));
  const prefix = `/${options.accountName}/`;
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    if (!hosts.has(String(request.getHeader('host') ?? ''))) return;
    const path = request.path.startsWith(prefix) ? request.path.slice(prefix.length - 1) : request.path;
    const key = `${request.method} ${resourceOf(path)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  });
  const write = () => {
    const report: StorageRequestCounts = { pid: process.pid, accountName: options.accountName, counts };
    try {
      writeFileSync(options.file, JSON.stringify(report));
    } catch {
      // A benchmark aid: a failed write must not disturb the process.
    }
  };
  setInterval(write, 1000).unref();
  process.on('exit', write);
}
