import { expect } from 'chai';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import type { FunctionTable } from '../../runtime/functions/function-table.ts';
import { sendJson, decodeQueueMessage } from '../../runtime/storage/queue-message.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

describe('local host', () => {
  describe('HTTP triggers', () => {
    let host: LocalHost;
    const seen: { request: HttpRequest; context: InvocationContext }[] = [];

    before(async () => {
      const table: FunctionTable = [
        {
          kind: 'http',
          name: 'echo',
          route: 'echo/{id}/{part?}',
          methods: ['POST'],
          authLevel: 'function',
          handler: async (request, context) => {
            seen.push({ request, context });
            return {
              status: 201,
              headers: { 'x-echo': request.params.id ?? '' },
              cookies: [{ name: 'sid', value: 'abc', httpOnly: true, sameSite: 'Lax', path: '/' }],
              jsonBody: { params: request.params, query: Object.fromEntries(request.query), body: await request.text() },
            };
          },
        },
        {
          kind: 'http',
          name: 'fails',
          route: 'fails',
          methods: ['GET'],
          authLevel: 'anonymous',
          // A token-shaped string, made here rather than committed.
          handler: () => Promise.reject(new Error(`boom with ghp_${'x'.repeat(36)}`)),
        },
      ];
      host = await createLocalHost({ table, log: memoryLogger().log });
    });
    after(() => host.close());

    it('calls the handler with the library request and context objects', async () => {
      const res = await fetch(`${host.url}/api/echo/42/x?q=1`, { method: 'POST', body: 'hello' });
      expect(res.status).to.equal(201);
      expect(res.headers.get('x-echo')).to.equal('42');
      expect(res.headers.get('set-cookie')).to.equal('sid=abc; Path=/; HttpOnly; SameSite=Lax');
      expect(await res.json()).to.deep.equal({ params: { id: '42', part: 'x' }, query: { q: '1' }, body: 'hello' });
      const last = seen.at(-1);
      expect(last?.request.constructor.name).to.equal('HttpRequest');
      expect(last?.context.functionName).to.equal('echo');
      expect(last?.context.invocationId).to.match(/^[0-9a-f-]{36}$/);
    });

    it('answers 404 for unknown routes and 405 for a known route with another method', async () => {
      expect((await fetch(`${host.url}/api/nothing`)).status).to.equal(404);
      expect((await fetch(`${host.url}/not-api`)).status).to.equal(404);
      expect((await fetch(`${host.url}/api/echo/42`)).status).to.equal(405);
    });

    it('turns a handler failure into a generic 500 without the error text', async () => {
      const res = await fetch(`${host.url}/api/fails`);
      expect(res.status).to.equal(500);
      const text = await res.text();
      expect(text).to.not.include('boom');
    });
  });

  describe('queue triggers', () => {
    it('delivers decoded JSON messages and deletes them once handled', async () => {
      const storage = await sharedStorage();
      const queueName = uniqueName('q');
      const received: unknown[] = [];
      const host = await createLocalHost({
        table: [{ kind: 'queue', name: 'consume', queueName, handler: async (m) => void received.push(m) }],
        storage,
        log: memoryLogger().log,
      });
      try {
        await storage.queue(queueName).createIfNotExists();
        await sendJson(storage.queue(queueName), { hello: 'world' });
        await host.drainQueues();
        expect(received).to.deep.equal([{ hello: 'world' }]);
        const peek = await storage.queue(queueName).peekMessages({ numberOfMessages: 32 });
        expect(peek.peekedMessageItems).to.have.length(0);
      } finally {
        await host.close();
      }
    });

    it('moves a message to the poison queue after 5 failed dequeues', async () => {
      const storage = await sharedStorage();
      const queueName = uniqueName('q');
      let attempts = 0;
      const { log, lines } = memoryLogger();
      const host = await createLocalHost({
        table: [
          {
            kind: 'queue',
            name: 'alwaysFails',
            queueName,
            handler: async () => {
              attempts++;
              throw new Error('cannot handle');
            },
          },
        ],
        storage,
        log,
      });
      try {
        await storage.queue(queueName).createIfNotExists();
        await sendJson(storage.queue(queueName), { id: 'bad' });
        for (let i = 0; i < 10 && attempts < 5; i++) await host.drainQueues();
        await host.drainQueues();
        expect(attempts).to.equal(5);
        const poison = await storage.queue(`${queueName}-poison`).peekMessages({ numberOfMessages: 32 });
        expect(poison.peekedMessageItems.map((m) => decodeQueueMessage(m.messageText))).to.deep.equal([{ id: 'bad' }]);
        const main = await storage.queue(queueName).peekMessages({ numberOfMessages: 32 });
        expect(main.peekedMessageItems).to.have.length(0);
        expect(lines.some((l) => l.msg === 'message moved to poison queue')).to.equal(true);
      } finally {
        await host.close();
      }
    });
  });

  describe('timer triggers', () => {
    it('runs a function on its NCRONTAB schedule', async () => {
      let runs = 0;
      const host = await createLocalHost({
        table: [{ kind: 'timer', name: 'everySecond', schedule: '* * * * * *', handler: async () => void runs++ }],
        log: memoryLogger().log,
      });
      await new Promise((r) => setTimeout(r, 2300));
      await host.close();
      expect(runs).to.be.within(1, 3);
    });

    it('refuses a schedule without the seconds field at start-up', async () => {
      let error: unknown;
      try {
        await createLocalHost({
          table: [{ kind: 'timer', name: 'bad', schedule: '*/5 * * * *', handler: async () => undefined }],
          log: memoryLogger().log,
        });
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.match(/6 fields/);
    });
  });

  it('refuses a table with two functions of one name', async () => {
    const handler = async () => ({ status: 200 });
    let error: unknown;
    try {
      await createLocalHost({
        table: [
          { kind: 'http', name: 'same', route: 'a', methods: ['GET'], authLevel: 'anonymous', handler },
          { kind: 'http', name: 'same', route: 'b', methods: ['GET'], authLevel: 'anonymous', handler },
        ],
        log: memoryLogger().log,
      });
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/duplicate function name/);
  });
});
