/**
 * The resource manager's state at rest: one JSON document encrypted with AES-256-GCM under the
 * local master key, written atomically (temp file + rename) and readable only by the user. Storage
 * keys, identity secrets and vault secrets live in it, so nothing of them is on disk in clear.
 * The master key is the one plain secret file: `<state dir>/resource-manager/master.key`, mode
 * 0600, under the git-ignored state dir — the local stand-in for a key held by an HSM.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Thrown when the state file cannot be decrypted (wrong master key or a damaged file). */
export class StateDecryptionError extends Error {
  override name = 'StateDecryptionError';
}

interface Envelope {
  readonly v: 1;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Reads the 32-byte master key, creating it (mode 0600) on first use. */
export async function loadOrCreateMasterKey(dir: string): Promise<Buffer> {
  const file = path.join(dir, 'master.key');
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new StateDecryptionError(`${file} is not a 32-byte base64 key`);
    return key;
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails when another process created the key meanwhile: read theirs instead of overwriting.
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateMasterKey(dir);
    throw err;
  }
}

export interface EncryptedFile<T> {
  load(): Promise<T | undefined>;
  save(value: T): Promise<void>;
}

export function encryptedFile<T>(file: string, key: Buffer): EncryptedFile<T> {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      try {
        const envelope = JSON.parse(text) as Envelope;
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
        decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
        const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as T;
      } catch (err) {
        throw new StateDecryptionError(`cannot decrypt ${file} with the local master key`, { cause: err });
      }
    },
    async save(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      const envelope: Envelope = { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(envelope), { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, file);
    },
  };
}
