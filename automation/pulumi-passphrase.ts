/**
 * The passphrase of the tenant stacks' passphrase secrets provider (local target). It lives in the
 * platform's vault (locally the resource manager's platform vault), is read through
 * `@azure/keyvault-secrets` like every other secret, generated on first use, and handed to the
 * engine only in memory (the workspace's `PULUMI_CONFIG_PASSPHRASE`), never written to a file.
 */
import { randomBytes } from 'node:crypto';
import type { SecretClient } from '@azure/keyvault-secrets';
import { statusOf } from '../runtime/storage/status-of.ts';

export const pulumiPassphraseSecretName = 'pulumi-passphrase';

export async function readOrCreatePulumiPassphrase(vault: SecretClient): Promise<string> {
  try {
    const existing = await vault.getSecret(pulumiPassphraseSecretName);
    if (existing.value) return existing.value;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  await vault.setSecret(pulumiPassphraseSecretName, randomBytes(32).toString('base64url'));
  // Read back the newest version: if two processes raced, both use the same (last) one.
  const stored = await vault.getSecret(pulumiPassphraseSecretName);
  if (!stored.value) throw new Error('the Pulumi passphrase could not be stored in the platform vault');
  return stored.value;
}
