/**
 * The local platform as `npm start` runs it, for `npm run bench:dispatch`: Azurite (data on
 * disk), the platform host in this process, the control plane with its resource manager, and a
 * tenant provisioned through it — its own Azurite and its own tenant runtime process, started
 * with nothing but its app settings. One difference: the GitHub API double runs in a process of
 * its own (support/github-side.ts), as GitHub is not in the platform's process on Azure, so that
 * this process's CPU is the platform's alone; the platform takes the double's App as an existing
 * App's settings (`GITHUB_APP_*`, `GITHUB_API_URL`), as it would a real one. Setup goes through
 * the same doors a user's does: the App installed in the double and bound to the tenant,
 * `.github/zekt.yml` files committed in the consumer repositories, the subscriptions synced
 * through the tenant API.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalPlatform, type LocalPlatform } from '../local/start-local-platform.ts';
import { createLogger } from '../runtime/core/logger.ts';
import { enqueueProvisioning } from '../automation/enqueue-provisioning.ts';
import { tenantResourceNames } from '../tenant-stack/resource-names.ts';
import { issueTenantApiCredential } from '../runtime/tenant/tenant-api-credential.ts';
import { startGitHubSide, type GitHubSide } from './support/github-side-client.ts';
import { existingAppSettings } from '../local/github-double/existing-app-settings.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchPlatform {
  readonly platform: LocalPlatform;
  /** GitHub's side, in its own process: the double and the sender of completed runs. */
  readonly github: GitHubSide;
  readonly tenantId: string;
  readonly tenantUrl: string;
  /** Restarts the tenant runtime with its app settings plus `extra` (as an operator changes app settings). */
  setTenantSettings(extra: Record<string, string>): Promise<void>;
  /** Installs the App on an organisation's repositories, binds it to the tenant, subscribes each consumer to the provider. */
  installWithSubscriptions(org: string, provider: string, consumers: readonly string[]): Promise<{ installationId: number }>;
  stop(): Promise<void>;
}

export async function startBenchPlatform(tenantId: string): Promise<BenchPlatform> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-bench-'));
  const github = await startGitHubSide();
  // The double's App, as an operator names an existing App: its key in a file only this user reads.
  const keyFile = path.join(stateDir, 'github-app.pem');
  await writeFile(keyFile, github.app.privateKey, { mode: 0o600 });
  const env = {
    ZEKT_PORT: '0',
    ZEKT_RESOURCE_MANAGER_PORT: '0',
    ZEKT_STATE_DIR: stateDir,
    ...existingAppSettings(github, keyFile),
  };
  // The platform logs at `info` as under `npm start`, to a file rather than the terminal.
  const { default: pinoDestination } = await import('pino').then((m) => ({ default: m.pino.destination }));
  const log = createLogger({ level: 'info', destination: pinoDestination({ dest: path.join(stateDir, 'platform.log'), sync: false, mkdir: true }) });
  const platform = await startLocalPlatform({ env, stateDir, log }).catch(async (err: unknown) => {
    await github.stop();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  });
  const stop = async () => {
    await platform.stop();
    await github.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const controlPlane = platform.controlPlane;
    const parts = platform.parts;
    if (!controlPlane || !parts) throw new Error('the benchmark needs the local target');
    // GitHub delivers the App's webhooks to the platform.
    await github.setWebhookUrl(`${platform.platformUrl}/api/github/webhooks`);
    await enqueueProvisioning({ registry: controlPlane.registry, jobs: controlPlane.jobs }, tenantId);
    const deadline = Date.now() + 600_000;
    let record = await controlPlane.registry.require(tenantId);
    while (record.status !== 'ready') {
      if (record.status === 'failed' || Date.now() > deadline) throw new Error(`tenant ${tenantId} did not become ready: ${record.status} ${record.lastError?.message ?? ''}`);
      await sleep(500);
      record = await controlPlane.registry.require(tenantId);
    }
    const outputs = record.outputs;
    if (!outputs) throw new Error('a ready tenant has outputs');
    const names = tenantResourceNames(tenantId, record.creationId);
    const resources = controlPlane.manager.resources;
    const tenantUrl = outputs.baseUrl;
    const forwardSecret = async () => {
      const secrets = await parts.ingress.forwardSecrets(tenantId);
      if (!secrets) throw new Error('the platform has the tenant forward secret');
      return secrets.current;
    };
    const credential = async () => issueTenantApiCredential({ tenantId, forwardSecret: await forwardSecret(), subject: 'bench' });

    async function setTenantSettings(extra: Record<string, string>) {
      const storage = resources.getStorageAccount(outputs?.storageAccountName as string);
      const identity = resources.getIdentity(names.identity);
      if (!storage || !identity || !outputs) throw new Error('the tenant has its storage account and identity');
      // The settings the tenant stack gives the runtime (tenant-stack/local/local-tenant-compartment.ts), plus `extra`.
      const base = {
        ZEKT_TENANT_ID: tenantId,
        ZEKT_LOG_LEVEL: 'info',
        ZEKT_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${storage.name};AccountKey=${storage.key};BlobEndpoint=${storage.blobEndpoint};QueueEndpoint=${storage.queueEndpoint};TableEndpoint=${storage.tableEndpoint};`,
        ZEKT_TENANT_VAULT_URL: outputs.vaultUri,
        ZEKT_LOCAL_IDENTITY_CLIENT_ID: identity.clientId,
        ZEKT_LOCAL_IDENTITY_SECRET: identity.clientSecret,
        ZEKT_BROKER_URL: platform.platformUrl,
        GITHUB_API_URL: github.apiUrl,
      };
      await resources.putFunctionRuntime(names.functionApp, { tenantId, settings: { ...base, ...extra } });
    }

    async function installWithSubscriptions(org: string, provider: string, consumers: readonly string[]) {
      if (!parts) throw new Error('unreachable');
      const installation = await github.addInstallation({
        account: org,
        accountType: 'Organization',
        repositories: [provider, ...consumers],
        permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' },
        singleFilePaths: ['.github/zekt.yml'],
      });
      for (const consumer of consumers) {
        await github.setFile(`${org}/${consumer}`, '.github/zekt.yml', `subscriptions:\n  - provider: ${org}/${provider}\n    conclusions: [success]\n`);
      }
      await parts.ingress.installations.bind(installation.id, tenantId, { accountLogin: org }, new Date());
      // GitHub's installation.created: the router applies it and forwards it, so the tenant learns the installation.
      await github.sendInstallationCreated(installation.id);
      const syncDeadline = Date.now() + 300_000;
      for (;;) {
        const res = await fetch(`${tenantUrl}/api/subscriptions/sync`, { method: 'POST', headers: { authorization: `Bearer ${await credential()}` } });
        const report = res.ok ? ((await res.json()) as { repositories: { repository: { fullName: string }; subscriptions: unknown[] }[] }) : undefined;
        const subscribed = report?.repositories.filter((r) => r.repository.fullName.startsWith(`${org}/`) && r.subscriptions.length > 0).length ?? 0;
        if (subscribed >= consumers.length) break;
        if (Date.now() > syncDeadline) throw new Error(`subscriptions of ${org} not in force: ${subscribed}/${consumers.length} (${res.status})`);
        await sleep(1000);
      }
      return { installationId: installation.id };
    }

    return { platform, github, tenantId, tenantUrl, setTenantSettings, installWithSubscriptions, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
