/** RSA key pairs, generated when the double starts (keys are never stored or committed). */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

export interface RsaKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A 2048-bit RSA pair, the size GitHub generates for App keys; off the main thread. */
export async function generateRsaKeyPair(): Promise<RsaKeyPair> {
  return generate('rsa', { modulusLength: 2048 });
}
