/**
 * Secret operations on one local vault record, with Key Vault's semantics for the subset Zekt
 * uses: a set adds a version, a get without version returns the newest, a delete removes the
 * secret and all its versions (no soft-delete: the vault reports no recovery id, so
 * `beginDeleteSecret` completes at once). Pure functions; the caller persists the result.
 */
import { randomBytes } from 'node:crypto';
import type { SecretVersion, VaultRecord } from './resource-manager-state.ts';

/** Key Vault's rule for secret names. */
export const secretNamePattern = /^[0-9a-zA-Z-]{1,127}$/;

/** Key Vault's limit on a secret value (25 KB). */
export const maxSecretValueBytes = 25 * 1024;

export class InvalidSecretError extends Error {
  override name = 'InvalidSecretError';
}

export interface SetSecretInput {
  readonly value: string;
  readonly contentType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
}

export function checkSecret(name: string, input: SetSecretInput): void {
  if (!secretNamePattern.test(name)) throw new InvalidSecretError('secret names are 1-127 letters, digits and hyphens');
  if (typeof input.value !== 'string') throw new InvalidSecretError('a secret value must be a string');
  if (Buffer.byteLength(input.value) > maxSecretValueBytes) throw new InvalidSecretError('a secret value is at most 25 KB');
}

/** Adds a version, as Key Vault does on every set. */
export function setSecret(vault: VaultRecord, name: string, input: SetSecretInput, now: number): { vault: VaultRecord; version: SecretVersion } {
  checkSecret(name, input);
  const versions = vault.secrets[name] ?? [];
  const seconds = Math.floor(now / 1000);
  const version: SecretVersion = {
    // Key Vault versions are 32 hex characters.
    version: randomBytes(16).toString('hex'),
    value: input.value,
    ...(input.contentType ? { contentType: input.contentType } : {}),
    ...(input.tags ? { tags: input.tags } : {}),
    enabled: input.enabled ?? true,
    created: seconds,
    updated: seconds,
  };
  return { vault: { ...vault, secrets: { ...vault.secrets, [name]: [...versions, version] } }, version };
}

export function getSecret(vault: VaultRecord, name: string, version?: string): SecretVersion | undefined {
  const versions = vault.secrets[name];
  if (!versions?.length) return undefined;
  return version ? versions.find((v) => v.version === version) : versions.at(-1);
}

export function deleteSecret(vault: VaultRecord, name: string): { vault: VaultRecord; deleted?: SecretVersion } {
  const versions = vault.secrets[name];
  if (!versions?.length) return { vault };
  const secrets = { ...vault.secrets };
  delete secrets[name];
  return { vault: { ...vault, secrets }, deleted: versions.at(-1) };
}
