/**
 * Where the operator CLI reads a tenant's forward-signing secret: where the ingress reads it
 * (runtime/ingress/create-ingress.ts `forwardSecrets`) — the platform vault's
 * `tenant-<id>-forward-secret`, else, on Azure, the tenant's own vault (its `vaultUri` output),
 * which the operator's identity must be allowed to read.
 */
import { platformSecretNames, type SecretStore } from '../../runtime/core/secret-store.ts';
import { tenantSecretNames } from '../../tenant-stack/tenant-secrets.ts';
import type { TenantRecord } from '../tenant-registry.ts';

export function createTenantForwardSecretReader(options: {
  readonly platformVault: SecretStore;
  readonly readTenantVaultSecret?: (vaultUri: string, name: string) => Promise<string | undefined>;
}) {
  return async (record: TenantRecord): Promise<string | undefined> => {
    const current = await options.platformVault.get(platformSecretNames.tenantForwardSecret(record.tenantId));
    if (current) return current;
    const vaultUri = record.outputs?.vaultUri;
    return vaultUri && options.readTenantVaultSecret ? options.readTenantVaultSecret(vaultUri, tenantSecretNames.forwardSigningSecret) : undefined;
  };
}
