/**
 * Wires the control plane from configuration: registry, leases, job queue and reconcile runs in
 * the platform's storage; stack workspaces on the located engine with the backend and secrets
 * provider from settings; the tenant program of the configured target; and the provisioning
 * worker on top. `npm start`, the tests and the benchmark all build it here.
 */
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import type { ZektConfig } from '../runtime/config.ts';
import type { Logger } from '../runtime/core/logger.ts';
import type { Storage } from '../runtime/storage/create-storage.ts';
import { tenantProgram } from '../tenant-stack/index.ts';
import { locatePulumiEngine } from './engine/pulumi-engine.ts';
import { createStackWorkspaces, type StackWorkspaces } from './stack-workspace.ts';
import { createTenantRegistry, type TenantRecord, type TenantRegistry } from './tenant-registry.ts';
import { createTenantLeases, type LeaseHolder, type TenantLeases } from './tenant-lease.ts';
import { createJobQueue, provisioningQueueName, tenantsTableName, type JobQueue } from './provisioning-jobs.ts';
import { createReconcileRuns, type ReconcileRuns } from './reconcile-runs.ts';
import { createProvisioningWorker, type ProvisioningTimings, type ProvisioningWorker } from './provisioning-worker.ts';
import type { TenantStackDeps } from './provision-tenant.ts';

/** The local target's resource manager, as the control plane needs it. */
export interface LocalTargetDeps {
  readonly managerUrl: string;
  /** A secret: reaches the stack only as a Pulumi secret input. */
  readonly managerToken: string;
  readonly platformVaultName: string;
}

/** The target named by configuration has no program in this build. */
export class TenantTargetUnavailableError extends Error {
  override name = 'TenantTargetUnavailableError';
}

export interface ControlPlaneOptions {
  readonly config: ZektConfig;
  /** The platform's storage (registry, leases, queue). */
  readonly storage: Storage;
  readonly log: Logger;
  /** Required for the local target. */
  readonly local?: LocalTargetDeps;
  /** The secrets provider's passphrase (passphrase provider only), read from the platform vault. */
  readonly passphrase?: string;
  /** Overrides the tenant program (tests drive another target's program through the same code). */
  readonly programFor?: (record: TenantRecord) => PulumiFn;
  /**
   * Overrides where stacks run: tests drive the Azure program through this same worker and
   * provisioner under Pulumi's mocks, with no engine and no cloud.
   */
  readonly workspaces?: StackWorkspaces;
  readonly holder?: LeaseHolder;
  readonly onTimings?: (timings: ProvisioningTimings) => void;
  /** Waits before retrying a stack locked by a live holder (ms). */
  readonly lockRetryDelaysMs?: readonly number[];
}

export interface ControlPlane {
  readonly registry: TenantRegistry;
  readonly leases: TenantLeases;
  readonly jobs: JobQueue;
  readonly runs: ReconcileRuns;
  readonly worker: ProvisioningWorker;
  readonly stacks: TenantStackDeps;
}

export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { config, storage, log } = options;
  const settings = config.controlPlane;
  // Fails with PulumiEngineMissingError naming `npm run setup` when the engine is not there.
  const engineRoot = options.workspaces ? '' : await locatePulumiEngine(config.engine.cacheDir);
  const stateDir = path.resolve(settings.stateDir);
  const local = settings.target === 'local';
  const backendUrl = settings.backendUrl ?? (local ? `file://${path.join(stateDir, 'pulumi')}` : 'azblob://pulumi-state');
  const secretsProvider = settings.secretsProvider ?? (local ? 'passphrase' : undefined);
  if (!secretsProvider) throw new TenantTargetUnavailableError('the azure target needs ZEKT_PULUMI_SECRETS_PROVIDER (azurekeyvault://…)');
  if (secretsProvider === 'passphrase' && !options.passphrase && !options.workspaces) throw new TenantTargetUnavailableError('the passphrase secrets provider needs the passphrase from the platform vault');
  if (local && !options.local && !options.programFor) throw new TenantTargetUnavailableError('the local target needs the local resource manager');

  const engineEnv: Record<string, string> = {};
  if (options.passphrase) engineEnv.PULUMI_CONFIG_PASSPHRASE = options.passphrase;
  if (backendUrl.startsWith('azblob://') && config.storage.kind === 'identity') {
    // The azblob backend and azurekeyvault provider authenticate with the platform's identity.
    engineEnv.AZURE_STORAGE_ACCOUNT = config.storage.accountName;
    if (config.storage.managedIdentityClientId) engineEnv.AZURE_CLIENT_ID = config.storage.managedIdentityClientId;
  }

  const table = storage.table(tenantsTableName);
  const registry = createTenantRegistry({ table });
  const holder = options.holder ?? { id: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, host: os.hostname(), pid: process.pid };
  const leases = createTenantLeases({ table, holder, leaseMs: settings.leaseSeconds * 1000 });
  const jobs = createJobQueue(storage.queue(provisioningQueueName));
  const runs = createReconcileRuns({ table });

  const programFor =
    options.programFor ??
    ((record: TenantRecord): PulumiFn => {
      if (settings.target === 'azure') {
        if (!settings.azure) throw new TenantTargetUnavailableError('the azure target needs ZEKT_TENANT_LOCATION and ZEKT_CONTROL_PLANE_PRINCIPAL_ID');
        return tenantProgram({
          target: 'azure',
          tenantId: record.tenantId,
          creationId: record.creationId,
          location: settings.azure.location,
          controlPlanePrincipalId: settings.azure.controlPlanePrincipalId,
          platformSubnetIds: settings.azure.platformSubnetIds,
          ...(settings.azure.ingressPrincipalId ? { ingressPrincipalId: settings.azure.ingressPrincipalId } : {}),
          ...(config.publicUrl ? { platformBaseUrl: config.publicUrl } : {}),
          brokerAudience: config.identity.brokerAudience,
          ...(settings.azure.tenantPackageDir ? { packageDir: settings.azure.tenantPackageDir } : {}),
        });
      }
      if (!options.local) throw new TenantTargetUnavailableError('the local target needs the local resource manager');
      return tenantProgram({
        target: 'local',
        tenantId: record.tenantId,
        creationId: record.creationId,
        managerUrl: options.local.managerUrl,
        managerToken: options.local.managerToken,
        platformVaultName: options.local.platformVaultName,
        logLevel: config.logLevel,
        ...(config.publicUrl ? { platformUrl: config.publicUrl } : {}),
        githubApiUrl: config.github.apiUrl,
        githubOidcIssuer: config.github.oidcIssuer,
      });
    });

  const stacks: TenantStackDeps = {
    workspaces:
      options.workspaces ??
      createStackWorkspaces({
        stateDir,
        backendUrl,
        secretsProvider,
        engineRoot,
        nodeDir: path.dirname(process.execPath),
        searchPath: config.engine.searchPath,
        env: engineEnv,
      }),
    programFor,
    configFor: (record) => ({ tenantId: record.tenantId, creationId: record.creationId, target: settings.target }),
    registry,
    operationTimeoutMs: settings.operationTimeoutSeconds * 1000,
    lockRetryDelaysMs: options.lockRetryDelaysMs ?? [1000, 2000, 4000, 8000, 16000],
    log,
  };

  const worker = createProvisioningWorker({
    stacks,
    registry,
    leases,
    jobs,
    runs,
    parallelism: settings.parallelism,
    reconcileParallelism: settings.reconcileParallelism,
    retrySchedule: settings.retrySchedule,
    busyRetrySeconds: settings.leaseSeconds,
    log,
    redact: [options.local?.managerToken ?? '', options.passphrase ?? ''].filter(Boolean),
    ...(options.onTimings ? { onTimings: options.onTimings } : {}),
  });

  return { registry, leases, jobs, runs, worker, stacks };
}
