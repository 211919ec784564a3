/**
 * A local stand-in for a smee.io channel, shaped like smee.io's own server: `POST <channel>` takes
 * a delivery (GitHub posts here) and sends it to every client listening on `GET <channel>` as a
 * server-sent event whose data is the request's headers with `body` (the parsed JSON), `query`
 * and `timestamp` beside them — what `smee-client` reads and re-posts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookChannel {
  /** The channel URL (`WEBHOOK_PROXY_URL`). */
  readonly url: string;
  /** Clients connected to the event stream now. */
  readonly listeners: () => number;
  /** Deliveries posted to the channel so far. */
  readonly posted: () => number;
  close(): Promise<void>;
}

export async function startWebhookChannel(): Promise<WebhookChannel> {
  const clients = new Set<http.ServerResponse>();
  let posted = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/channel-1') return void res.writeHead(404).end();
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('event: ready\ndata: {}\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posted += 1;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return void res.writeHead(400).end();
      }
      const data = JSON.stringify({ ...req.headers, body, query: {}, timestamp: Date.now() });
      for (const client of clients) client.write(`id: ${posted}\ndata: ${data}\n\n`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/channel-1`,
    listeners: () => clients.size,
    posted: () => posted,
    close: async () => {
      for (const client of clients) client.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
