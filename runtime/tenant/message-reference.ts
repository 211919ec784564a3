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
