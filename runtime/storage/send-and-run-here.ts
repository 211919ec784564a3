/**
 * A queue message as the safety net of work this process does at once. `send` stores the message
 * hidden for `safetyNetSeconds` and runs the queue function's handler on it here, right away; once
 * the handler succeeds, the message is deleted by the pop receipt its send was answered with — it
 * is never received, so the hop costs no poll and no receive, and waits for no poller. If the
 * handler fails, or this process dies first, the message becomes visible when the safety net runs
 * out and the queue trigger runs it as any other message (retries, poison queue): the handler must
 * be idempotent, as every queue handler here is.
 *
 * What is durable is unchanged: the caller's `send` resolves once the message is stored, as with
 * `sendJson`. Only where the work first runs differs. Bounded: with `maxInFlight` handlers already
 * running here, a message is sent visible instead and left to the queue trigger, so a burst is
 * spread over the trigger's batches (and over instances) rather than run all at once.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../core/logger.ts';
import { encodeQueueMessage, sendJson } from './queue-message.ts';

export interface SendAndRunHereOptions {
  readonly queue: QueueClient;
  /** The queue function's handler (the same one the queue trigger runs). */
  readonly handle: (message: unknown) => Promise<void>;
  /** How long the message stays hidden while the work runs here (60 s by default). */
  readonly safetyNetSeconds?: number;
  /** Handlers running here at once, at most (32 by default). */
  readonly maxInFlight?: number;
  readonly log: Logger;
}

export interface SendAndRunHere {
  /** Stores the message (hidden), then runs it here in the background. */
  send(message: unknown): Promise<void>;
  /** Resolves once no handler started here is running (tests, shutdown). */
  idle(): Promise<void>;
}

export function createSendAndRunHere(options: SendAndRunHereOptions): SendAndRunHere {
  const safetyNetSeconds = options.safetyNetSeconds ?? 60;
  const maxInFlight = options.maxInFlight ?? 32;
  const running = new Set<Promise<void>>();

  return {
    async send(message) {
      if (running.size >= maxInFlight) return sendJson(options.queue, message);
      const sent = await options.queue.sendMessage(encodeQueueMessage(message), { visibilityTimeout: safetyNetSeconds, messageTimeToLive: -1 });
      const work: Promise<void> = (async () => {
        try {
          await options.handle(message);
        } catch (err) {
          options.log.warn({ err, messageId: sent.messageId, queue: options.queue.name }, `handled here and failed; the queue runs it again in ${safetyNetSeconds} s`);
          return;
        }
        // Not deleted (storage refused): it comes back once visible and finds its work done.
        await options.queue.deleteMessage(sent.messageId, sent.popReceipt).catch((err: unknown) => options.log.warn({ err, messageId: sent.messageId }, 'could not delete a message handled here'));
      })().finally(() => running.delete(work));
      running.add(work);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}
