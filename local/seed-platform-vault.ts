/**
 * Puts the platform's secrets into the local platform vault for a local run: the GitHub App's
 * webhook secret, private key and OAuth client secret (from the GitHub API double, which makes a
 * fresh App at every start), and a session key made once and kept. On Azure the operator sets
 * these through Pulumi secret config instead (docs/deploy-azure.md).
 */
import { randomBytes } from 'node:crypto';
import type { SecretClient } from '@azure/keyvault-secrets';
import { platformSecretNames } from '../runtime/core/secret-store.ts';
import type { GitHubAppCredentials } from './github-double/index.ts';
import { statusOf } from '../runtime/storage/status-of.ts';

async function exists(vault: SecretClient, name: string): Promise<boolean> {
  try {
    await vault.getSecret(name);
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

export async function seedPlatformVault(
  vault: SecretClient,
  app: Pick<GitHubAppCredentials, 'webhookSecret' | 'privateKey' | 'clientSecret'> | undefined,
): Promise<void> {
  if (app) {
    await vault.setSecret(platformSecretNames.webhookSecret, app.webhookSecret);
    await vault.setSecret(platformSecretNames.appPrivateKey, app.privateKey);
    await vault.setSecret(platformSecretNames.oauthClientSecret, app.clientSecret);
  }
  // Sessions sealed with it survive restarts, so it is made once.
  if (!(await exists(vault, platformSecretNames.sessionKey))) {
    await vault.setSecret(platformSecretNames.sessionKey, randomBytes(32).toString('base64'));
  }
}
