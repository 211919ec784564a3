/**
 * Every body reader stops at its cap while the body streams (hole 3 of the hardening issue): the
 * local host per route before a handler runs, the handlers' own reader (what holds on Azure), and
 * the router reading a tenant's answer. Bodies are chunked (no Content-Length) unless a test says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import azureFunctions from '@azure/functions';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { readBody, PayloadTooLargeError } from '../../runtime/functions/read-body.ts';
import { forwardToTenant, signForward, type ForwardedDelivery } from '../../runtime/ingress/forward-to-tenant.ts';
import { createTenantWebhookHandler } from '../../runtime/tenant/receive-forwarded-webhook.ts';
import { createWorkflowEventStore } from '../../runtime/tenant/workflow-event-store.ts';
import { workflowRunPayload } from '../fixtures/index.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';
import { forwardSecret } from '../ingress/support.ts';

const { HttpRequest, InvocationContext } = azureFunctions;

/** A body of `total` bytes sent in 1 KiB chunks, with no Content-Length; counts what was pulled. */
function chunked(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(1024).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => sent };
}

/** A request as the library builds it on its streaming path (`nativeRequest`, a fetch Request over a stream). */
function streamedRequest(url: string, headers: Record<string, string>, stream: ReadableStream<Uint8Array>): azureFunctions.HttpRequest {
  const nativeRequest = new Request(url, { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit);
  return new HttpRequest({ nativeRequest } as never);
}

function postChunked(url: string, total: number): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunked(total).stream, duplex: 'half' } as RequestInit);
}

describe('body caps while streaming', () => {
  describe('local host: each route has a cap, known before its body is read', () => {
    let host: LocalHost;
    const reached: string[] = [];
    before(async () => {
      const handler = async (request: azureFunctions.HttpRequest) => {
        reached.push(request.url);
        return { status: 200, jsonBody: { bytes: (await request.arrayBuffer()).byteLength } };
      };
      host = await createLocalHost({
        log: memoryLogger().log,
        table: [
          { kind: 'http', name: 'small', route: 'small', methods: ['POST'], authLevel: 'anonymous', maxBodyBytes: 4096, handler },
          { kind: 'http', name: 'plain', route: 'plain', methods: ['POST'], authLevel: 'anonymous', handler },
        ],
      });
    });
    after(() => host.close());
    beforeEach(() => void (reached.length = 0));

    it('answers 413 to a chunked body over the route cap, and the handler never runs', async () => {
      const res = await postChunked(`${host.url}/api/small`, 64 * 1024);
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { error: string }).error).to.match(/exceeds 4096 bytes/);
      expect(reached).to.deep.equal([]);
    });

    it('answers 413 to a declared Content-Length over the cap without reading the body', async () => {
      const res = await fetch(`${host.url}/api/small`, { method: 'POST', body: 'x'.repeat(5000) });
      expect(res.status).to.equal(413);
      expect(reached).to.deep.equal([]);
    });

    it('passes a chunked body within the cap whole', async () => {
      const res = await postChunked(`${host.url}/api/small`, 3 * 1024);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ bytes: 3 * 1024 });
    });

    it('gives a route without a cap the small default (64 KiB)', async () => {
      expect((await postChunked(`${host.url}/api/plain`, 60 * 1024)).status).to.equal(200);
      expect((await postChunked(`${host.url}/api/plain`, 200 * 1024)).status).to.equal(413);
      expect(reached).to.have.length(1);
    });
  });

  describe("handlers' reader (the Azure host streams the body to it)", () => {
    it('stops reading a streamed body once it passes the cap', async () => {
      const body = chunked(10 * 1024 * 1024);
      const request = streamedRequest('http://h/api/x', {}, body.stream);
      const err = await readBody(request, 8 * 1024).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(PayloadTooLargeError);
      expect(body.pulled()).to.be.below(64 * 1024);
    });

    it('tenant intake: a chunked body over its cap is 413 and nothing is recorded', async () => {
      const storage = await sharedStorage();
      const events = storage.table(uniqueName('events'));
      const seen = storage.table(uniqueName('seen'));
      await Promise.all([events.createTable(), seen.createTable()]);
      const secret = forwardSecret();
      const handler = createTenantWebhookHandler({ tenantId: 'acme', secrets: async () => ({ current: secret }), events: createWorkflowEventStore(events), seen, maxBodyBytes: 16 * 1024, log: memoryLogger().log });
      const delivery: ForwardedDelivery = { id: randomUUID(), event: 'workflow_run', installationId: 1, tenantId: 'acme', receivedAt: new Date().toISOString(), payload: { ...workflowRunPayload(), padding: 'x'.repeat(32 * 1024) } };
      const text = JSON.stringify(delivery);
      const stream = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) });
      const request = streamedRequest('http://t/api/webhooks', signForward(delivery.id, text, { current: secret }, new Date()), stream);
      const res = await handler(request, new InvocationContext({ functionName: 'webhooks' }));
      expect(res.status).to.equal(413);
      const rows = [];
      for await (const row of seen.listEntities()) rows.push(row);
      expect(rows).to.deep.equal([]);
    });
  });

  describe("router: a tenant's answer is read only as far as it is kept", () => {
    let server: http.Server;
    let url: string;
    let written = 0;
    before(async () => {
      // A tenant that answers 500 with an endless body.
      server = http.createServer((req, res) => {
        req.resume();
        res.writeHead(500, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        const pump = () => {
          while (written < 512 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        };
        res.on('drain', pump);
        res.on('close', () => res.off('drain', pump));
        pump();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks`;
    });
    after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));

    it('records the rejection with a short body and stops reading', async () => {
      const delivery: ForwardedDelivery = { id: randomUUID(), event: 'workflow_run', installationId: 1, tenantId: 'acme', receivedAt: new Date().toISOString(), payload: {} };
      const result = await forwardToTenant(url, delivery, { current: forwardSecret() }, { timeoutMs: 10_000, now: new Date() });
      expect(result.kind).to.equal('rejected');
      expect(result.kind === 'rejected' && result.body.length).to.equal(500);
      expect(written).to.be.below(64 * 1024 * 1024);
    });
  });
});
