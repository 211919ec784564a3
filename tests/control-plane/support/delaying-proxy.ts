/**
 * A proxy in front of the resource manager that forwards every request at once but holds back
 * the response of the ones matching `hold`: the manager does the work, the caller (a dynamic
 * provider inside an update) waits. Tests kill a worker while such a call is in flight.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayingProxy {
  readonly url: string;
  /** Resolves when the first held request has been answered by the manager. */
  readonly held: Promise<string>;
  close(): Promise<void>;
}

export async function startDelayingProxy(target: string, hold: (method: string, path: string) => boolean): Promise<DelayingProxy> {
  let signalHeld: (path: string) => void = () => undefined;
  const held = new Promise<string>((resolve) => (signalHeld = resolve));
  const parked: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          if (hold(req.method ?? 'GET', req.url ?? '/')) {
            parked.push(res);
            signalHeld(req.url ?? '/');
            return;
          }
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of parked) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
