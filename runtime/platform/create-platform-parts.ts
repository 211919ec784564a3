/**
 * The platform's parts beyond health — the ingress and identity — wired onto one storage account,
 * one vault and the control plane's tenant registry. Both hosts use it: the Azure Functions entry
 * (`runtime/azure/platform-app.ts`) and the local platform (`local/start-local-platform.ts`);
 * only the secret store and the broker's token verifier differ between them.
 */
import type { ZektConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import { platformSecretNames, type SecretStore } from '../core/secret-store.ts';
import type { Storage } from '../storage/create-storage.ts';
import { createAppRequest, type AppRequest } from '../github/create-app-request.ts';
import { createIngress } from '../ingress/create-ingress.ts';
import { createIdentity } from '../identity/create-identity.ts';
import { createTenantAccountsStore } from '../identity/tenant-accounts-store.ts';
import type { VerifyCallerToken } from '../identity/caller-authenticator.ts';
import { createTenantRegistry, type TenantRecord } from '../../automation/tenant-registry.ts';
import { createJobQueue, provisioningQueueName, tenantsTableName } from '../../automation/provisioning-jobs.ts';
import { createReconcileRuns } from '../../automation/reconcile-runs.ts';
import { enqueueReconcile } from '../../automation/enqueue-provisioning.ts';
import type { FunctionDefinition } from '../functions/function-table.ts';
import { platformStorageLayout } from './platform-storage-layout.ts';
import { createConsole } from '../console/console-functions.ts';
import { tenantSecretNames } from '../../tenant-stack/tenant-secrets.ts';

export interface PlatformPartsDeps {
  readonly config: ZektConfig;
  readonly storage: Storage;
  readonly secrets: SecretStore;
  /** Verifies a tenant runtime's identity token for the broker's audience. */
  readonly verifyCallerToken: VerifyCallerToken;
  /** The platform's public base URL (OAuth callback, cookies, CSRF origin). */
  readonly publicUrl: string;
  /** Reads a secret from a tenant's own vault (Azure: the ingress identity may read its forward secret). */
  readonly readTenantVaultSecret?: (vaultUri: string, name: string) => Promise<string | undefined>;
  readonly log: Logger;
}

/** Tenants whose compartment still answers: their webhook URL is where forwards go. */
const reachable = new Set<TenantRecord['status']>(['ready', 'provisioning']);

export function createPlatformParts(deps: PlatformPartsDeps) {
  const registry = createTenantRegistry({ table: deps.storage.table(tenantsTableName) });
  const jobs = createJobQueue(deps.storage.queue(provisioningQueueName));

  let appRequest: Promise<AppRequest | undefined> | undefined;
  const getAppRequest = () =>
    (appRequest ??= (async () => {
      const appId = deps.config.identity.appId;
      const privateKey = await deps.secrets.get(platformSecretNames.appPrivateKey);
      if (!appId || !privateKey) return undefined;
      return createAppRequest({ appId, privateKey, apiUrl: deps.config.github.apiUrl }).request;
    })().catch((err: unknown) => {
      appRequest = undefined;
      throw err;
    }));

  const ingress = createIngress({
    storage: deps.storage,
    secrets: deps.secrets,
    tenantWebhookUrl: async (tenantId) => {
      const record = await registry.get(tenantId);
      return record && reachable.has(record.status) ? record.outputs?.webhookUrl : undefined;
    },
    appRequest: getAppRequest,
    config: deps.config.ingress,
    ...(deps.readTenantVaultSecret
      ? {
          forwardSecretFallback: async (tenantId: string) => {
            const vaultUri = (await registry.get(tenantId))?.outputs?.vaultUri;
            return vaultUri ? deps.readTenantVaultSecret?.(vaultUri, tenantSecretNames.forwardSigningSecret) : undefined;
          },
        }
      : {}),
    log: deps.log,
  });

  const identity = createIdentity({
    storage: deps.storage,
    secrets: deps.secrets,
    config: deps.config.identity,
    github: { apiUrl: deps.config.github.apiUrl, webUrl: deps.config.github.webUrl },
    publicUrl: deps.publicUrl,
    tenants: createTenantAccountsStore(deps.storage.table(platformStorageLayout.tables.accounts), { registry, jobs }),
    installations: ingress.installations,
    releaseParked: ingress.releaseParked,
    tenantForwardSecrets: ingress.forwardSecrets,
    verifyCallerToken: deps.verifyCallerToken,
    // The caller's identity (client id locally, principal id on Azure) must be a tenant's own.
    tenantForIdentity: async (identityId) => {
      // The registry's identity index: one point read per call, not a scan of every tenant.
      const owner = await registry.findByIdentity(identityId);
      return owner && reachable.has(owner.status) ? owner.tenantId : undefined;
    },
    log: deps.log,
  });

  // Drift repair on a schedule: a reconcile job over the ready tenants, run by the provisioning
  // worker with its leases and `ZEKT_RECONCILE_PARALLELISM`; each run's report is kept in `runs`.
  const runs = createReconcileRuns({ table: deps.storage.table(tenantsTableName) });
  const reconcileTimer: FunctionDefinition = {
    kind: 'timer',
    name: 'reconcileTenants',
    schedule: deps.config.controlPlane.reconcileSchedule,
    handler: async () => {
      const { runId } = await enqueueReconcile({ jobs, runs }, { readyOnly: true });
      deps.log.info({ runId }, 'reconcile of the ready tenants requested');
    },
  };

  const consolePages = createConsole({ appRequest: getAppRequest });

  return { registry, jobs, runs, ingress, identity, functions: [...ingress.functions, ...identity.functions, reconcileTimer, ...consolePages.functions] };
}

export type PlatformParts = ReturnType<typeof createPlatformParts>;
