/**
 * The router's queue message: delivery ids to route. An id names its own row (the partition is a
 * hash of it), so one message can announce a whole group-commit round across partitions.
 */
import type { QueueClient } from '@azure/storage-queue';
import { sendJson } from '../storage/queue-message.ts';

export interface RouteAnnouncement {
  readonly deliveryIds: readonly string[];
}

/**
 * A queue message holds at most 64 KiB, base64 included: 400 ids of up to 64 characters stay well
 * under it (GitHub's ids are 36).
 */
const idsPerMessage = 400;

/** Announces the ids, in as few messages as fit; `delaySeconds` hides them that long (retries). */
export async function announceDeliveries(queue: QueueClient, deliveryIds: readonly string[], delaySeconds?: number): Promise<void> {
  for (let i = 0; i < deliveryIds.length; i += idsPerMessage) {
    const announcement: RouteAnnouncement = { deliveryIds: deliveryIds.slice(i, i + idsPerMessage) };
    await sendJson(queue, announcement, delaySeconds);
  }
}
