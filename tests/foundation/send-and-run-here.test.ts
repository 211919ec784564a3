/**
 * A queue message as the safety net of work done here at once (send-and-run-here.ts): the work
 * runs in this process without the message ever being received, and the message is gone after;
 * when the work fails, the queue trigger runs the message once its safety net runs out.
 */
import { expect } from 'chai';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createSendAndRunHere } from '../../runtime/storage/send-and-run-here.ts';
import type { Storage } from '../../runtime/storage/create-storage.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';
import { requestsDuring } from '../support/requests-during.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('send and run here: a queue message as the safety net of work done at once', function () {
  this.timeout(15_000);
  let storage: Storage;
  let queueName: string;
  let host: LocalHost | undefined;
  beforeEach(async () => {
    storage = await sharedStorage();
    queueName = uniqueName('here');
    await storage.queue(queueName).createIfNotExists();
  });
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  it('runs the work here without receiving the message, and leaves no message behind', async () => {
    const handled: unknown[] = [];
    const here = createSendAndRunHere({ queue: storage.queue(queueName), handle: async (m) => void handled.push(m), log: memoryLogger().log });
    const requests = await requestsDuring(async () => {
      await here.send({ run: 1 });
      await here.idle();
    });
    const receives = requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/${queueName}/messages`)).length;
    expect(handled).to.deep.equal([{ run: 1 }]);
    expect(receives).to.equal(0);
    expect((await storage.queue(queueName).getProperties()).approximateMessagesCount).to.equal(0);
  });

  it('leaves work that failed here to the queue trigger once the safety net runs out', async () => {
    const handledBy: string[] = [];
    const here = createSendAndRunHere({
      queue: storage.queue(queueName),
      handle: async () => {
        handledBy.push('here');
        throw new Error('storage refused a write');
      },
      safetyNetSeconds: 1,
      log: memoryLogger().log,
    });
    host = await createLocalHost({
      table: [{ kind: 'queue', name: 'consume', queueName, handler: async () => void handledBy.push('queue') }],
      storage,
      log: memoryLogger().log,
      queue: { minPollMs: 50, maxPollMs: 200 },
    });
    await here.send({ run: 2 });
    await here.idle();
    expect(handledBy).to.deep.equal(['here']);
    // Hidden while the safety net holds: the trigger's polls do not see it yet.
    await sleep(300);
    expect(handledBy).to.deep.equal(['here']);
    while (handledBy.length < 2) await sleep(50);
    expect(handledBy).to.deep.equal(['here', 'queue']);
  });

  it('sends the message visible, for the queue trigger, when too much is running here', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const handledBy: string[] = [];
    const here = createSendAndRunHere({ queue: storage.queue(queueName), handle: async () => void handledBy.push('here'), maxInFlight: 1, log: memoryLogger().log });
    const slow = createSendAndRunHere({ queue: storage.queue(queueName), handle: () => held, maxInFlight: 1, log: memoryLogger().log });
    await slow.send({ run: 'slow' });
    // `here` has room: handled here. `slow` has one running: its next message goes to the queue.
    await here.send({ run: 3 });
    await slow.send({ run: 4 });
    await here.idle();
    expect(handledBy).to.deep.equal(['here']);
    const { peekedMessageItems } = await storage.queue(queueName).peekMessages({ numberOfMessages: 32 });
    expect(peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()))).to.deep.equal([{ run: 4 }]);
    release();
    await slow.idle();
  });
});
