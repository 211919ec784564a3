/**
 * News of a message this process has just sent to a queue, for the local host's pollers: the
 * local equivalent of the Azure Functions host's shared queue watcher, which wakes a queue
 * trigger at once when a function of the same host writes to its queue through an output binding
 * (https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#polling-algorithm).
 * Without it a message crossing from one function to the next waits out the poller's backoff on an
 * empty queue (up to `maxPollMs`, twice on the way from a provider's webhook to a dispatch).
 *
 * Keyed by the queue's URL (account and name), because a `QueueClient` is what every sender holds
 * and a poller knows its queue by: two clients of the same queue share the news. A message sent by
 * another process, or by a client that does not go through `sendJson`, is not seen here: its
 * queue's next poll finds it. A delayed message wakes nobody before it is visible: its news is
 * given once its visibility timeout has run out.
 */

const listeners = new Map<string, Set<() => void>>();

/** Calls `listener` after each message sent in this process to the queue at `queueUrl`; returns the unsubscribe. */
export function watchQueueSends(queueUrl: string, listener: () => void): () => void {
  let set = listeners.get(queueUrl);
  if (!set) listeners.set(queueUrl, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(queueUrl) === set) listeners.delete(queueUrl);
  };
}

/**
 * Tells the watchers of `queueUrl` that a message was sent, once it is visible: now, or after
 * `visibleInMs`. Called after the send succeeded; a watcher that is gone by then is not called.
 */
export function queueSent(queueUrl: string, visibleInMs = 0): void {
  if (!listeners.has(queueUrl)) return;
  const tell = () => {
    for (const listener of [...(listeners.get(queueUrl) ?? [])]) listener();
  };
  // The timer must not keep a stopping process alive: a poller that outlives it polls anyway.
  if (visibleInMs > 0) setTimeout(tell, visibleInMs).unref();
  else tell();
}
