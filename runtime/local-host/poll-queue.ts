/**
 * The queue half of the local host, with the Azure Functions queue trigger's semantics
 * (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger):
 * base64 messages, a visibility timeout while a message is processed, a failed message made
 * visible again, and after `maxDequeueCount` (5) failed dequeues the message moves to
 * `<queue>-poison`. Polling backs off after every poll that did not fill a batch.
 *
 * Like the Functions host, the next batch is fetched once no more than `newBatchThreshold`
 * (batchSize / 2) messages are still running — not when the whole batch is done — so one slow
 * message (a dispatch waiting on GitHub) never holds back the rest; at most batchSize +
 * newBatchThreshold run at once.
 *
 * A message this process sends to the queue (queue-sends.ts) wakes the poller at once, as the
 * Functions host's queue watcher wakes a trigger its own output bindings write to: a hop from one
 * function to the next does not wait out the backoff. Other senders' messages wait for the poll.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { QueueFunction } from '../functions/function-table.ts';
import type { Logger } from '../core/logger.ts';
import { decodeQueueMessage } from '../storage/queue-message.ts';
import { watchQueueSends } from '../storage/queue-sends.ts';
import { createInvocationContext } from './invocation-context.ts';

/**
 * The queue trigger's settings the local host shares with host.json on Azure (a test ties them):
 * the same batch, dequeue count and longest wait between polls of an empty queue, so a delivery
 * waits no longer on Azure than here. Functions' own `maxPollingInterval` default is one minute: an
 * idle tenant's first dispatch would wait up to a minute per queue on its way.
 */
export const queueTriggerSettings = { batchSize: 16, maxDequeueCount: 5, maxPollMs: 1000 } as const;

export interface QueuePollerOptions {
  /** Messages taken per poll and processed in parallel (Functions' `batchSize`, 16). */
  readonly batchSize?: number;
  /** Fetch the next batch once no more than this many are running (Functions' `newBatchThreshold`, batchSize / 2). */
  readonly newBatchThreshold?: number;
  /** Functions' `maxDequeueCount`. */
  readonly maxDequeueCount?: number;
  /** Seconds a message stays invisible while its handler runs. */
  readonly visibilityTimeoutSeconds?: number;
  /** Seconds before a failed message is visible again (Functions' `visibilityTimeout`, 0 by default). */
  readonly retryDelaySeconds?: number;
  readonly minPollMs?: number;
  readonly maxPollMs?: number;
}

export interface QueuePoller {
  stop(): Promise<void>;
  /** Resolves once every message visible now has been handled (tests). */
  drain(): Promise<void>;
}

export function pollQueue(
  fn: QueueFunction,
  queue: QueueClient,
  poison: QueueClient,
  log: Logger,
  options: QueuePollerOptions = {},
): QueuePoller {
  const batchSize = options.batchSize ?? queueTriggerSettings.batchSize;
  const newBatchThreshold = options.newBatchThreshold ?? Math.floor(batchSize / 2);
  const maxDequeueCount = options.maxDequeueCount ?? queueTriggerSettings.maxDequeueCount;
  const visibility = options.visibilityTimeoutSeconds ?? 300;
  const retryDelay = options.retryDelaySeconds ?? 0;
  const minPoll = options.minPollMs ?? 50;
  const maxPoll = options.maxPollMs ?? queueTriggerSettings.maxPollMs;
  const qlog = log.child({ functionName: fn.name, queue: queue.name });

  let stopped = false;
  let wake: (() => void) | undefined;
  // A drain waiter resolves on the first empty poll that started after it was registered.
  let idleWaiters: { after: number; resolve: () => void }[] = [];
  let pollsStarted = 0;
  // Set by a send in this process (or a drain): the poll under way may have missed its message, so poll again.
  let nudged = false;
  let ensured = false;
  const running = new Set<Promise<void>>();
  // Resolved when a running message finishes (the loop waits for a slot below the threshold).
  let slotFreed: (() => void) | undefined;

  async function handleOne(message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number }) {
    const context = createInvocationContext(fn.name, log, {
      trigger: 'queue',
      id: message.messageId,
      dequeueCount: message.dequeueCount,
    });
    try {
      await fn.handler(decodeQueueMessage(message.messageText), context);
      await queue.deleteMessage(message.messageId, message.popReceipt);
    } catch (err) {
      if (message.dequeueCount >= maxDequeueCount) {
        qlog.error({ err, messageId: message.messageId, dequeueCount: message.dequeueCount }, 'message moved to poison queue');
        await poison.createIfNotExists();
        await poison.sendMessage(message.messageText, { messageTimeToLive: -1 });
        await queue.deleteMessage(message.messageId, message.popReceipt);
      } else {
        qlog.warn({ err, messageId: message.messageId, dequeueCount: message.dequeueCount }, 'queue handler failed; message will be retried');
        await queue.updateMessage(message.messageId, message.popReceipt, undefined, retryDelay);
        // Visible again after retryDelay: poll then rather than at the end of the backoff.
        setTimeout(nudge, retryDelay * 1000).unref();
      }
    }
  }

  /** Waits `ms`, or less if a message is sent here meanwhile, one of `tasks` ends, or the poller stops or drains. */
  function pause(ms: number, tasks: readonly Promise<void>[] = []): Promise<void> {
    if (nudged || stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      // Only the first call counts: a task ending later must not end a later pause.
      const done = () => {
        if (wake !== done) return;
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      wake = done;
      for (const task of tasks) void task.then(done);
    });
  }
  function nudge(): void {
    nudged = true;
    wake?.();
  }
  const unwatch = watchQueueSends(queue.url, nudge);

  const loop = (async () => {
    let delay = minPoll;
    while (!stopped) {
      let count = 0;
      const pollId = ++pollsStarted;
      nudged = false;
      try {
        if (!ensured) {
          await queue.createIfNotExists();
          ensured = true;
        }
        const received = await queue.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: visibility });
        count = received.receivedMessageItems.length;
        for (const m of received.receivedMessageItems) {
          const task: Promise<void> = handleOne(m)
            .catch((err: unknown) => qlog.error({ err, messageId: m.messageId }, 'could not settle queue message'))
            .finally(() => {
              running.delete(task);
              slotFreed?.();
            });
          running.add(task);
        }
      } catch (err) {
        if (!stopped) qlog.error({ err }, 'queue poll failed');
      }
      while (running.size > newBatchThreshold) await new Promise<void>((resolve) => (slotFreed = resolve));
      // A full batch: more may be waiting, poll again now. A partial one emptied the queue as it
      // was then: what comes next from this process wakes the poller (queue-sends.ts), so a poll
      // at once, or soon after, would only find it empty — at low rates, two or three wasted
      // requests per message. The backoff goes on, bounded by maxPoll, for other senders.
      if (count === batchSize) {
        delay = minPoll;
        continue;
      }
      // Not idle while messages still run; a drain waits for them, so their end wakes it then.
      if (count > 0 || running.size > 0) {
        await pause(delay, idleWaiters.length > 0 ? [...running] : []);
        delay = Math.min(delay * 2, maxPoll);
        continue;
      }
      const ready = idleWaiters.filter((w) => w.after < pollId);
      idleWaiters = idleWaiters.filter((w) => w.after >= pollId);
      for (const w of ready) w.resolve();
      if (stopped) break;
      await pause(delay);
      delay = Math.min(delay * 2, maxPoll);
    }
    unwatch();
    await Promise.all(running);
    for (const w of idleWaiters) w.resolve();
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
    drain() {
      return new Promise<void>((resolve) => {
        idleWaiters.push({ after: pollsStarted, resolve });
        // A poll under way may end empty before the drain's own poll: that one must not wait either.
        nudge();
      });
    },
  };
}
