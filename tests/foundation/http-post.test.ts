/**
 * The per-delivery POST (runtime/core/http-post.ts): the answer's status, headers and body as the
 * callers read them, a body read no further than asked, a timeout named `TimeoutError`, no
 * redirect followed, connections reused — and the `fetch` stand-in answering the same way.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { fetchPost, undiciPost, type HttpPost } from '../../runtime/core/http-post.ts';

describe('the per-delivery POST', () => {
  let server: http.Server;
  let base: string;
  const seen: { url: string; headers: http.IncomingHttpHeaders; body: string; socket: unknown }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socket: req.socket });
        if (req.url === '/slow') return void setTimeout(() => res.writeHead(204).end(), 1500);
        if (req.url === '/redirect') return void res.writeHead(307, { location: '/elsewhere' }).end();
        if (req.url === '/huge') {
          res.writeHead(500, { 'content-type': 'text/plain' });
          // Far more than anyone reads: the reader stops at what it asked for.
          res.end('x'.repeat(4 * 1024 * 1024));
          return;
        }
        res.writeHead(429, { 'retry-after': '7', 'x-many': 'a', 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'slow down' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => void (seen.length = 0));

  for (const [name, post] of [['undici', undiciPost], ['the fetch stand-in', fetchPost(fetch)]] as [string, HttpPost][]) {
    describe(name, () => {
      it('sends the headers and body, and reads the status, headers and body of the answer', async () => {
        const res = await post(`${base}/limited`, { headers: { 'content-type': 'application/json', 'x-zekt': 'yes' }, body: '{"a":1}', timeoutMs: 2000 });
        expect(res.status).to.equal(429);
        expect(res.headers.get('Retry-After')).to.equal('7');
        expect(res.headers.has('x-many')).to.equal(true);
        expect(res.headers.get('x-none')).to.equal(null);
        expect(res.headerRecord()['retry-after']).to.equal('7');
        expect(JSON.parse(await res.text())).to.deep.equal({ message: 'slow down' });
        expect(seen[0]?.headers['x-zekt']).to.equal('yes');
        expect(seen[0]?.body).to.equal('{"a":1}');
      });

      it('reads a body no further than asked', async () => {
        const res = await post(`${base}/huge`, { headers: {}, body: '', timeoutMs: 5000 });
        expect(res.status).to.equal(500);
        expect(await res.text(2048)).to.equal('x'.repeat(2048));
      });

      it('names a timeout TimeoutError', async () => {
        const err = await post(`${base}/slow`, { headers: {}, body: '', timeoutMs: 200 }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.name).to.equal('TimeoutError');
      });

      it('does not follow a redirect', async () => {
        const res = await post(`${base}/redirect`, { headers: {}, body: '{}', timeoutMs: 2000 });
        expect(res.status).to.equal(307);
        await res.text();
        expect(seen.map((s) => s.url)).to.deep.equal(['/redirect']);
      });
    });
  }

  it('keeps connections alive: POSTs one after the other reuse the sockets they opened', async () => {
    const sockets = new Set<unknown>();
    const fresh = http.createServer((req, res) => {
      sockets.add(req.socket);
      req.resume().on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => fresh.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(fresh.address() as AddressInfo).port}/`;
      for (let i = 0; i < 6; i++) {
        const res = await undiciPost(url, { headers: {}, body: String(i), timeoutMs: 2000 });
        expect(res.status).to.equal(204);
        expect(await res.text()).to.equal('');
      }
      // undici may open a second one while the first is being released; never one per request.
      expect(sockets.size).to.be.within(1, 2);
    } finally {
      fresh.closeAllConnections();
      await new Promise<void>((r) => fresh.close(() => r()));
    }
  });

  it('refuses when nothing listens', async () => {
    const err = await undiciPost('http://127.0.0.1:9/', { headers: {}, body: '', timeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).to.be.instanceOf(Error);
    expect(err?.name).not.to.equal('TimeoutError');
  });
});
