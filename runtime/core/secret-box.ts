/**
 * Authenticated encryption for values kept at rest on the platform (a user's GitHub token in
 * their session row, a PKCE verifier): AES-256-GCM with a 32-byte key from the platform vault, a
 * fresh 12-byte nonce per value, and the row's purpose bound as associated data so a value cannot
 * be moved to another row or field and still decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

/** @param key 32 bytes, base64 (the platform vault's `session-key`). */
export function createSecretBox(key: string): SecretBox {
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32) throw new SecretBoxError('the encryption key must be 32 bytes, base64-encoded');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', raw, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    open(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || body === undefined || !tag) throw new SecretBoxError('not a sealed value');
      try {
        const decipher = createDecipheriv('aes-256-gcm', raw, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch (err) {
        throw new SecretBoxError('sealed value does not open with this key and context', { cause: err });
      }
    },
  };
}
