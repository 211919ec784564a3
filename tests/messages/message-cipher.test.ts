import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createMessageCipher, keyIdOf, type MessageKeys } from '../../runtime/tenant/messages/message-cipher.ts';
import { MessageIntegrityError, MessageKeyUnavailableError } from '../../runtime/tenant/messages/message-errors.ts';

describe('messages: the cipher (AES-256-GCM, bound, rotatable)', () => {
  const binding = { tenantId: 'acme', repositoryId: 7, runId: 11, runAttempt: 1, name: 'release' };
  const plaintext = Buffer.from('{"v":"1.0.0"}');
  const newKey = () => randomBytes(32).toString('base64');

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (err) {
      return err;
    }
    throw new Error('expected a rejection');
  }

  it('opens what it sealed, and records the sealing key by its id', async () => {
    const key = newKey();
    const cipher = createMessageCipher(async () => ({ current: key }));
    const sealed = await cipher.seal(plaintext, binding);
    expect(sealed.keyId).to.equal(keyIdOf(Buffer.from(key, 'base64')));
    expect(sealed.sealed.includes(plaintext)).to.equal(false);
    expect((await cipher.open(sealed, binding)).toString()).to.equal(plaintext.toString());
  });

  it('refuses the ciphertext under any other binding: tenant, repository, run, attempt or name', async () => {
    const key = newKey();
    const cipher = createMessageCipher(async () => ({ current: key }));
    const sealed = await cipher.seal(plaintext, binding);
    for (const other of [{ tenantId: 'globex' }, { repositoryId: 8 }, { runId: 12 }, { runAttempt: 2 }, { name: '' }]) {
      expect(await rejection(cipher.open(sealed, { ...binding, ...other })), JSON.stringify(other)).to.be.instanceOf(MessageIntegrityError);
    }
  });

  it('keeps opening messages sealed with the previous key after a rotation; seals with the new one', async () => {
    const [oldKey, freshKey] = [newKey(), newKey()];
    let keys: MessageKeys = { current: oldKey };
    const cipher = createMessageCipher(async () => keys);
    const before = await cipher.seal(plaintext, binding);
    keys = { current: freshKey, previous: oldKey };
    const after = await cipher.seal(plaintext, binding);
    expect(after.keyId).to.not.equal(before.keyId);
    expect((await cipher.open(before, binding)).toString()).to.equal(plaintext.toString());
    keys = { current: freshKey };
    expect(await rejection(cipher.open(before, binding))).to.be.instanceOf(MessageKeyUnavailableError);
    expect((await cipher.open(after, binding)).toString()).to.equal(plaintext.toString());
  });

  it('refuses to work without a 32-byte key', async () => {
    expect(await rejection(createMessageCipher(async () => undefined).seal(plaintext, binding))).to.be.instanceOf(MessageKeyUnavailableError);
    expect(await rejection(createMessageCipher(async () => ({ current: randomBytes(16).toString('base64') })).seal(plaintext, binding))).to.be.instanceOf(MessageKeyUnavailableError);
  });
});
