/**
 * How events and messages meet. A provider run's messages are referenced by its event (URL and
 * digest in the `client_payload`, never the body); a consumer may fetch a message only when it
 * was delivered an event that references it. The message store answers the first question, the
 * delivery records the second; each side is given the other as one of these functions.
 */

/** What an event carries about one message of its run. */
export interface MessageReference {
  /** Opaque id; `GET <messagesUrl>/<id>` fetches the body. */
  readonly id: string;
  /** The optional name the provider gave it (`name` input of the Action). */
  readonly name?: string;
  readonly url: string;
  /** Hex sha-256 of the JSON body as stored, so the consumer can check what it fetched. */
  readonly sha256: string;
  readonly size: number;
  readonly expiresAt: string;
}

export interface ProviderRunKey {
  readonly repositoryId: number;
  readonly runId: number;
  readonly runAttempt: number;
}

/** The message store's side: the messages a provider run posted (empty when none). */
export type MessageReferencesOfRun = (run: ProviderRunKey) => Promise<readonly MessageReference[]>;

/** The delivery records' side: whether an event referencing this message was delivered to that repository. */
export type WasMessageDeliveredTo = (messageId: string, consumerRepositoryId: number) => Promise<boolean>;

/**
 * An event's references after a late message (or a second look at the store) added `incoming`:
 * one reference per name, the later post winning (a later post expires later: every message gets
 * the same TTL), and nothing dropped. Answers `current` itself when nothing changes.
 */
export function mergeReferences(current: readonly MessageReference[], incoming: readonly MessageReference[]): readonly MessageReference[] {
  const byName = new Map(current.map((r) => [r.name ?? '', r]));
  let changed = false;
  for (const ref of incoming) {
    const held = byName.get(ref.name ?? '');
    if (held && (held.id === ref.id || held.expiresAt >= ref.expiresAt)) continue;
    byName.set(ref.name ?? '', ref);
    changed = true;
  }
  if (!changed) return current;
  return [...byName.values()].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
}
