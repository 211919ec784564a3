/**
 * The worker's dry run (`--dry-run`): everything a real run wires, checked, and nothing done. The
 * settings parse, the control plane is built for the configured target (the Pulumi engine found,
 * the secrets provider and the target's settings present), the tenant app package the Azure target
 * deploys is there with its dependencies installed, and the provisioning queue answers. No job is
 * taken, no stack opened. An operator runs it in a new image before pointing the job at it.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RestError } from '@azure/storage-queue';
import type { ZektConfig } from '../runtime/config.ts';
import type { Storage } from '../runtime/storage/create-storage.ts';
import { createControlPlane } from './create-control-plane.ts';
import { provisioningQueueName } from './provisioning-jobs.ts';
import type { Logger } from '../runtime/core/logger.ts';

/** A check of the dry run failed; the message says which and what to do. */
export class WorkerCheckError extends Error {
  override name = 'WorkerCheckError';
}

export interface WorkerCheckReport {
  readonly target: 'local' | 'azure';
  /** The tenant app package each tenant's Functions app is deployed from (Azure target). */
  readonly tenantPackage?: { readonly dir: string; readonly main: string };
  /** Jobs waiting on the provisioning queue (approximate, as Azure counts them); 0 when it does not exist yet. */
  readonly queuedJobs: number;
}

async function checkTenantPackage(dir: string): Promise<{ dir: string; main: string }> {
  let main: unknown;
  try {
    ({ main } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { main?: unknown });
  } catch (err) {
    throw new WorkerCheckError(`ZEKT_TENANT_PACKAGE_DIR ${dir} holds no tenant app package (build it with \`npm run build\`)`, { cause: err });
  }
  if (typeof main !== 'string') throw new WorkerCheckError(`${dir}/package.json names no main: the Functions host would find no functions`);
  for (const needed of [main, 'host.json', 'node_modules/@azure/functions/package.json']) {
    try {
      await access(path.join(dir, needed));
    } catch (err) {
      throw new WorkerCheckError(`the tenant app package at ${dir} lacks ${needed}${needed.startsWith('node_modules') ? ' (run `npm ci --omit=dev` in it)' : ''}`, { cause: err });
    }
  }
  return { dir, main };
}

async function queuedJobs(storage: Storage): Promise<number> {
  try {
    return (await storage.queue(provisioningQueueName).getProperties()).approximateMessagesCount ?? 0;
  } catch (err) {
    if (err instanceof RestError && err.statusCode === 404) return 0;
    throw new WorkerCheckError(`the provisioning queue does not answer: ${(err as Error).message}`, { cause: err });
  }
}

export async function checkProvisioningWorker(options: { readonly config: ZektConfig; readonly storage: Storage; readonly log: Logger }): Promise<WorkerCheckReport> {
  const { config, storage, log } = options;
  // Throws PulumiEngineMissingError or TenantTargetUnavailableError, naming what is missing.
  await createControlPlane({ config, storage, log });
  const { target, azure } = config.controlPlane;
  if (target === 'azure' && !azure) throw new WorkerCheckError('the azure target needs ZEKT_TENANT_LOCATION and ZEKT_CONTROL_PLANE_PRINCIPAL_ID');
  if (target === 'azure' && !azure?.tenantPackageDir) throw new WorkerCheckError('the azure target needs ZEKT_TENANT_PACKAGE_DIR: tenant apps would be deployed without code');
  return {
    target,
    ...(azure?.tenantPackageDir ? { tenantPackage: await checkTenantPackage(azure.tenantPackageDir) } : {}),
    queuedJobs: await queuedJobs(storage),
  };
}
