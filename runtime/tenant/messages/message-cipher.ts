/**
 * Messages at rest: AES-256-GCM under the tenant's own message key (the 32 random bytes the tenant
 * stack writes to the tenant's vault as `message-encryption-key`), a fresh 12-byte nonce per
 * message, and the message's binding — tenant, provider repository id, run id, run attempt, name —
 * as associated data, so a ciphertext copied to another row, run or tenant does not open.
 *
 * Each sealed message records the id of the key that sealed it (a fingerprint of the key, which
 * says nothing about it): during a rotation the vault's new key seals, and messages sealed under
 * the previous key still open until their TTL ends.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { MessageIntegrityError, MessageKeyUnavailableError } from './message-errors.ts';

/** The key(s) from the tenant vault, base64. */
export interface MessageKeys {
  readonly current: string;
  readonly previous?: string;
}

/** What a message is bound to. */
export interface MessageBinding {
  readonly tenantId: string;
  readonly repositoryId: number;
  readonly runId: number;
  readonly runAttempt: number;
  readonly name: string;
}

export interface SealedMessage {
  readonly keyId: string;
  readonly iv: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  readonly sealed: Buffer;
}

export interface MessageCipher {
  seal(plaintext: Buffer, binding: MessageBinding): Promise<SealedMessage>;
  open(message: SealedMessage, binding: MessageBinding): Promise<Buffer>;
}

const tagBytes = 16;

export function keyIdOf(key: Buffer): string {
  return `k1-${createHash('sha256').update('zekt-message-key-id').update(key).digest('hex').slice(0, 16)}`;
}

function associatedData(binding: MessageBinding): Buffer {
  // A JSON array: unambiguous however the parts are spelled (a name may hold any character).
  return Buffer.from(JSON.stringify(['zekt-message-v1', binding.tenantId, binding.repositoryId, binding.runId, binding.runAttempt, binding.name]));
}

function decodeKey(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new MessageKeyUnavailableError('the tenant message key must be 32 bytes, base64');
  return key;
}

/** @param keys reads the tenant vault (callers cache; a rotation shows up on the next read). */
export function createMessageCipher(keys: () => Promise<MessageKeys | undefined>): MessageCipher {
  async function ring(): Promise<{ id: string; key: Buffer }[]> {
    const found = await keys();
    if (!found) throw new MessageKeyUnavailableError('the tenant vault holds no message key');
    return [found.current, found.previous].filter((k): k is string => Boolean(k)).map((k) => {
      const key = decodeKey(k);
      return { id: keyIdOf(key), key };
    });
  }
  return {
    async seal(plaintext, binding) {
      const [current] = await ring();
      const { id, key } = current as { id: string; key: Buffer };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
      cipher.setAAD(associatedData(binding));
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return { keyId: id, iv, sealed };
    },
    async open(message, binding) {
      const entry = (await ring()).find((k) => k.id === message.keyId);
      if (!entry) throw new MessageKeyUnavailableError(`the key ${message.keyId} that sealed this message is no longer in the vault`);
      if (message.sealed.length < tagBytes || message.iv.length !== 12) throw new MessageIntegrityError('stored message is malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', entry.key, message.iv, { authTagLength: tagBytes });
        decipher.setAAD(associatedData(binding));
        decipher.setAuthTag(message.sealed.subarray(message.sealed.length - tagBytes));
        return Buffer.concat([decipher.update(message.sealed.subarray(0, message.sealed.length - tagBytes)), decipher.final()]);
      } catch (err) {
        throw new MessageIntegrityError('stored message does not open under its key and binding', { cause: err });
      }
    },
  };
}
