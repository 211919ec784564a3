/**
 * A message this process sends to a queue its local host polls wakes the poller at once, the way
 * the Functions host's queue watcher does for its own output bindings. The pollers here back off
 * for ten minutes on an empty queue: a message that waited for the poll would run into the test's
 * timeout instead of being handled.
 */
import { expect } from 'chai';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { encodeQueueMessage, sendJson } from '../../runtime/storage/queue-message.ts';
import { watchQueueSends } from '../../runtime/storage/queue-sends.ts';
import type { Storage } from '../../runtime/storage/create-storage.ts';
import { sharedStorage, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';
import { requestsDuring } from '../support/requests-during.ts';

const tenMinutes = 600_000;

/** Counts the polls (GET …/messages) of one queue while `during` runs. */
async function pollsOf(queueName: string, during: () => Promise<void>): Promise<number> {
  return (await requestsDuring(during)).filter((r) => r.method === 'GET' && r.path.endsWith(`/${queueName}/messages`)).length;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function handled(received: unknown[], count: number): Promise<void> {
  while (received.length < count) await sleep(10);
}

describe('local host: a send in this process wakes its queue poller', function () {
  this.timeout(8000);
  let storage: Storage;
  let host: LocalHost | undefined;
  let queueName: string;
  const received: unknown[] = [];

  beforeEach(async () => {
    storage = await sharedStorage();
    queueName = uniqueName('wake');
    received.length = 0;
    await storage.queue(queueName).createIfNotExists();
    host = await createLocalHost({
      table: [{ kind: 'queue', name: 'consume', queueName, handler: async (m) => void received.push(m) }],
      storage,
      log: memoryLogger().log,
      queue: { minPollMs: tenMinutes, maxPollMs: tenMinutes },
    });
    // Polled empty once: from here on the poller sleeps ten minutes unless something wakes it.
    await host.drainQueues();
  });
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  it('handles a message sent with sendJson without waiting out the backoff', async () => {
    await sendJson(storage.queue(queueName), { hello: 'now' });
    await handled(received, 1);
    expect(received).to.deep.equal([{ hello: 'now' }]);
  });

  it('wakes for a message sent through another client of the same queue', async () => {
    const other = await sharedStorage();
    await sendJson(other.queue(queueName), { n: 1 });
    await sendJson(other.queue(queueName), { n: 2 });
    await handled(received, 2);
    expect(received).to.have.deep.members([{ n: 1 }, { n: 2 }]);
  });

  it('polls once for a message sent here, not again at once after a batch that was not full', async () => {
    const polls = await pollsOf(queueName, async () => {
      await sendJson(storage.queue(queueName), { one: 1 });
      await handled(received, 1);
      await sleep(500);
    });
    expect(received).to.deep.equal([{ one: 1 }]);
    expect(polls).to.equal(1);
  });

  it('polls again at once after a full batch: messages beyond one batch do not wait for the backoff', async () => {
    // 20 messages the poller hears nothing of (sent around sendJson), then one it does: the batch of
    // 16 it takes is full, so it looks again at once and finds the other five.
    for (let n = 1; n <= 20; n++) await storage.queue(queueName).sendMessage(encodeQueueMessage({ n }));
    await sendJson(storage.queue(queueName), { n: 21 });
    await handled(received, 21);
    expect(received).to.have.length(21);
  });

  it('leaves a message sent around sendJson (another process) to the next poll', async () => {
    await storage.queue(queueName).sendMessage(encodeQueueMessage({ from: 'elsewhere' }));
    await sleep(1000);
    expect(received).to.deep.equal([]);
    await host?.drainQueues();
    expect(received).to.deep.equal([{ from: 'elsewhere' }]);
  });

  it('gives news of a delayed message only once it is visible', async () => {
    // A queue nobody polls, so a peek sees whether the message is visible when the news comes.
    const queue = storage.queue(uniqueName('delayed'));
    await queue.createIfNotExists();
    const visibleAtNews: number[] = [];
    const unwatch = watchQueueSends(queue.url, () => {
      void queue.peekMessages({ numberOfMessages: 32 }).then((p) => visibleAtNews.push(p.peekedMessageItems.length));
    });
    try {
      await sendJson(queue, { later: true }, 1);
      expect(visibleAtNews).to.deep.equal([]);
      expect((await queue.peekMessages()).peekedMessageItems).to.have.length(0);
      while (visibleAtNews.length === 0) await sleep(10);
      expect(visibleAtNews).to.deep.equal([1]);
    } finally {
      unwatch();
    }
  });

  it('handles a delayed message once visible, without waiting out the backoff', async () => {
    await sendJson(storage.queue(queueName), { later: true }, 1);
    await sleep(200);
    expect(received).to.deep.equal([]);
    await handled(received, 1);
    expect(received).to.deep.equal([{ later: true }]);
  });
});
