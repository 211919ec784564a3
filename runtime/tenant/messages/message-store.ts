/**
 * The tenant's messages, in its `messages` table, sealed (message-cipher.ts) and kept for a TTL.
 *
 * Layout (one table, three kinds of row):
 * - `message` / `<id>`: one posted message — its binding (repository, run, attempt, name), digest,
 *   size, key id, nonce and ciphertext (split over 32 KiB binary properties: a table property holds
 *   at most 64 KiB). After its TTL, or once a newer post replaced it, the row becomes a tombstone
 *   (no ciphertext, `state` `expired` or `replaced`) so a fetch answers 410, not 404, until the
 *   tombstone itself is forgotten one TTL later.
 * - `run-<repositoryId>-<runId>-<attempt>` / `n-<name>`: which message currently holds that key
 *   (a partition query answers "the messages of this run" without opening any ciphertext).
 * - `jti` / `<sha-256 of jti>`: used OIDC tokens (verify-run-token.ts), forgotten after they expire.
 *
 * A post under an existing key (same repository, run, attempt and name) replaces it: it gets a new
 * id, the run's row points at it, and the old message becomes a `replaced` tombstone. Ids are
 * random, so a reference always names exactly the bytes its digest describes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { MessageReference, MessageReferencesOfRun, ProviderRunKey } from '../message-reference.ts';
import { statusOf } from '../../storage/status-of.ts';
import type { MessageCipher } from './message-cipher.ts';
import { MessageGoneError, MessageNotFoundError } from './message-errors.ts';

const chunkBytes = 32 * 1024;

/** A message name: what the Action's `name` input may be (it becomes part of a row key). */
export const messageNamePattern = /^[A-Za-z0-9._-]{1,64}$/;

export interface StoredMessage {
  readonly id: string;
  readonly repositoryId: number;
  readonly repository: string;
  readonly runId: number;
  readonly runAttempt: number;
  readonly name?: string;
  readonly sha256: string;
  readonly size: number;
  readonly postedAt: string;
  readonly expiresAt: string;
}

export interface PostedMessage extends ProviderRunKey {
  readonly repository: string;
  readonly name?: string;
  readonly bytes: Buffer;
}

export interface MessageStoreOptions {
  readonly tenantId: string;
  readonly table: TableClient;
  readonly cipher: MessageCipher;
  readonly ttlSeconds: number;
  /** The messages URL references point under (`<base>/api/messages`); read when a reference is built. */
  readonly messagesUrl: () => string;
  readonly now?: () => number;
}

interface MessageRow {
  partitionKey: string;
  rowKey: string;
  state: 'live' | 'expired' | 'replaced';
  repositoryId: number;
  repository: string;
  runId: number;
  runAttempt: number;
  name: string;
  sha256: string;
  size: number;
  postedAt: string;
  expiresAt: string;
  forgetAt: string;
  keyId?: string;
  iv?: Uint8Array;
  chunks?: number;
  [chunk: `c${number}`]: Uint8Array | undefined;
}

interface RunRow {
  partitionKey: string;
  rowKey: string;
  id: string;
  name: string;
  sha256: string;
  size: number;
  expiresAt: string;
}

export type MessageStore = ReturnType<typeof createMessageStore>;

export const runPartitionOf = (run: ProviderRunKey) => `run-${run.repositoryId}-${run.runId}-${run.runAttempt}`;

export function createMessageStore(options: MessageStoreOptions) {
  const { table, cipher, tenantId } = options;
  const now = options.now ?? Date.now;
  const iso = (ms: number) => new Date(ms).toISOString();
  const bindingOf = (row: { repositoryId: number; runId: number; runAttempt: number; name: string }) => ({
    tenantId,
    repositoryId: row.repositoryId,
    runId: row.runId,
    runAttempt: row.runAttempt,
    name: row.name,
  });

  async function getRow<T extends object>(partitionKey: string, rowKey: string): Promise<(T & { etag: string }) | undefined> {
    try {
      return (await table.getEntity<T>(partitionKey, rowKey)) as T & { etag: string };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Turns a message row into a tombstone: the ciphertext is gone, its metadata answers 410. */
  async function bury(row: MessageRow, state: 'expired' | 'replaced', at: number): Promise<void> {
    const { partitionKey, rowKey, repositoryId, repository, runId, runAttempt, name, sha256, size, postedAt, expiresAt } = row;
    await table.upsertEntity(
      { partitionKey, rowKey, state, repositoryId, repository, runId, runAttempt, name, sha256, size, postedAt, expiresAt, forgetAt: iso(at + options.ttlSeconds * 1000) },
      'Replace',
    );
  }

  function describeRow(row: MessageRow): StoredMessage {
    return {
      id: row.rowKey,
      repositoryId: row.repositoryId,
      repository: row.repository,
      runId: row.runId,
      runAttempt: row.runAttempt,
      ...(row.name ? { name: row.name } : {}),
      sha256: row.sha256,
      size: row.size,
      postedAt: row.postedAt,
      expiresAt: row.expiresAt,
    };
  }

  function reference(row: RunRow): MessageReference {
    return { id: row.id, ...(row.name ? { name: row.name } : {}), url: `${options.messagesUrl()}/${row.id}`, sha256: row.sha256, size: row.size, expiresAt: row.expiresAt };
  }

  return {
    /** Seals and stores a provider run's message; a post under an existing key replaces it. */
    async put(message: PostedMessage): Promise<MessageReference> {
      const name = message.name ?? '';
      const at = now();
      const id = randomUUID();
      const binding = { tenantId, repositoryId: message.repositoryId, runId: message.runId, runAttempt: message.runAttempt, name };
      const { keyId, iv, sealed } = await cipher.seal(message.bytes, binding);
      const chunks: Record<string, Uint8Array> = {};
      for (let i = 0, offset = 0; offset < sealed.length; i++, offset += chunkBytes) chunks[`c${i}`] = sealed.subarray(offset, offset + chunkBytes);
      const sha256 = createHash('sha256').update(message.bytes).digest('hex');
      const expiresAt = iso(at + options.ttlSeconds * 1000);
      const runKey = { partitionKey: runPartitionOf(message), rowKey: `n-${name}` };
      await table.createEntity({
        partitionKey: 'message',
        rowKey: id,
        state: 'live',
        repositoryId: message.repositoryId,
        repository: message.repository,
        runId: message.runId,
        runAttempt: message.runAttempt,
        name,
        sha256,
        size: message.bytes.length,
        postedAt: iso(at),
        expiresAt,
        forgetAt: iso(at + 2 * options.ttlSeconds * 1000),
        keyId,
        iv,
        chunks: Object.keys(chunks).length,
        ...chunks,
      });
      // The run's row after the message row, so a reference never names a message not yet stored.
      // Most keys are posted once: a create, and only when it exists already a read and a replace.
      const row: RunRow = { ...runKey, id, name, sha256, size: message.bytes.length, expiresAt };
      try {
        await table.createEntity(row);
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        const before = await getRow<RunRow>(runKey.partitionKey, runKey.rowKey);
        await table.upsertEntity(row, 'Replace');
        if (before && before.id !== id) {
          const old = await getRow<MessageRow>('message', before.id);
          if (old?.state === 'live') await bury(old, 'replaced', at);
        }
      }
      return reference(row);
    },

    /** The messages a provider run posted, current ones only (the event builder's side). */
    referencesOfRun: (async (run) => {
      const found: MessageReference[] = [];
      const at = iso(now());
      const rows = table.listEntities<RunRow>({ queryOptions: { filter: odata`PartitionKey eq ${runPartitionOf(run)}` } });
      for await (const row of rows) if (row.expiresAt > at) found.push(reference(row));
      return found.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    }) satisfies MessageReferencesOfRun,

    /** Metadata of one message, live or not; undefined when the id was never stored (or forgotten). */
    async describe(id: string): Promise<(StoredMessage & { state: MessageRow['state'] }) | undefined> {
      const row = await getRow<MessageRow>('message', id);
      return row ? { ...describeRow(row), state: row.state } : undefined;
    },

    /** The plaintext bytes of a live message; refuses a tampered ciphertext (MessageIntegrityError). */
    async open(id: string): Promise<{ message: StoredMessage; bytes: Buffer }> {
      const row = await getRow<MessageRow>('message', id);
      if (!row) throw new MessageNotFoundError('no such message');
      if (row.state !== 'live' || row.expiresAt <= iso(now()) || !row.keyId || !row.iv) {
        throw new MessageGoneError(row.state === 'replaced' ? 'the message was replaced by a newer one' : 'the message has expired');
      }
      const parts: Uint8Array[] = [];
      for (let i = 0; i < (row.chunks ?? 0); i++) parts.push(row[`c${i}`] ?? new Uint8Array());
      const bytes = await cipher.open({ keyId: row.keyId, iv: Buffer.from(row.iv), sealed: Buffer.concat(parts) }, bindingOf(row));
      return { message: describeRow(row), bytes };
    },

    /**
     * The purge timer's work: live messages past their TTL become tombstones (and leave their
     * run's index), tombstones and used `jti`s past `forgetAt` are removed. Idempotent.
     */
    async purge(): Promise<{ expired: number; forgotten: number }> {
      const at = now();
      let expired = 0;
      let forgotten = 0;
      const due = table.listEntities<MessageRow>({
        queryOptions: { filter: odata`PartitionKey eq 'message' and state eq 'live' and expiresAt le ${iso(at)}` },
      });
      for await (const row of due) {
        await bury(row, 'expired', at);
        const index = await getRow<RunRow>(runPartitionOf(row), `n-${row.name}`);
        if (index?.id === row.rowKey) {
          await table.deleteEntity(index.partitionKey, index.rowKey, { etag: index.etag }).catch((err: unknown) => {
            if (statusOf(err) !== 404 && statusOf(err) !== 412) throw err;
          });
        }
        expired++;
      }
      const forget = table.listEntities<{ partitionKey: string; rowKey: string }>({
        queryOptions: { filter: odata`(PartitionKey eq 'message' or PartitionKey eq 'jti') and forgetAt le ${iso(at)}`, select: ['PartitionKey', 'RowKey'] },
      });
      for await (const row of forget) {
        await table.deleteEntity(row.partitionKey, row.rowKey).catch((err: unknown) => {
          if (statusOf(err) !== 404) throw err;
        });
        forgotten++;
      }
      return { expired, forgotten };
    },
  };
}
