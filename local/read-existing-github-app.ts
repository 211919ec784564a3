/**
 * An existing GitHub App's secrets for a local run, as the environment (or `.env`) names them:
 * the private key is read from its file and checked to be a private key, so a wrong path or file
 * fails `npm start` at once, naming the setting — never the file's content.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExistingGitHubApp } from '../runtime/config.ts';

/** The private key file cannot be read, or does not hold a private key. */
export class GitHubAppKeyFileError extends Error {
  override name = 'GitHubAppKeyFileError';
}

export interface GitHubAppSecrets {
  readonly privateKey: string;
  readonly webhookSecret: string;
  readonly clientSecret: string;
}

export async function readExistingGitHubApp(app: ExistingGitHubApp): Promise<GitHubAppSecrets> {
  const file = path.resolve(app.privateKeyPath);
  let privateKey: string;
  try {
    privateKey = await readFile(file, 'utf8');
  } catch (err) {
    throw new GitHubAppKeyFileError(`GITHUB_APP_PRIVATE_KEY_PATH: cannot read ${file}`, { cause: err });
  }
  try {
    // GitHub hands out PKCS#1 PEM keys; any private key Node can load signs App JWTs.
    createPrivateKey(privateKey);
  } catch {
    // The parser's error may quote the file; it is not kept.
    throw new GitHubAppKeyFileError(`GITHUB_APP_PRIVATE_KEY_PATH: ${file} does not hold a private key (the .pem file GitHub generated)`);
  }
  return { privateKey, webhookSecret: app.webhookSecret, clientSecret: app.clientSecret };
}
