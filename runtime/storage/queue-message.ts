/**
 * Queue messages as the Azure Functions host reads them: base64 text (host.json
 * `extensions.queues.messageEncoding` defaults to base64), JSON inside.
 */
import type { QueueClient } from '@azure/storage-queue';
import { queueSent } from './queue-sends.ts';

export function encodeQueueMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Decodes base64 and parses JSON when the text is JSON, otherwise returns the text. */
export function decodeQueueMessage(messageText: string): unknown {
  const text = Buffer.from(messageText, 'base64').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Sends one JSON message. `visibilityTimeoutSeconds` delays it (retries with backoff); the queue
 * counts whole seconds, so a fraction is rounded up. This process's pollers of the queue hear of
 * it once it is visible (queue-sends.ts).
 */
export async function sendJson(queue: QueueClient, value: unknown, visibilityTimeoutSeconds?: number): Promise<void> {
  const delaySeconds = visibilityTimeoutSeconds ? Math.ceil(visibilityTimeoutSeconds) : 0;
  await queue.sendMessage(encodeQueueMessage(value), {
    ...(delaySeconds ? { visibilityTimeout: delaySeconds } : {}),
    messageTimeToLive: -1,
  });
  queueSent(queue.url, delaySeconds * 1000);
}
