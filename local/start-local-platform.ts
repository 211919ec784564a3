/**
 * Everything `npm start` runs, as one function (the end-to-end test calls it too): Azurite with
 * its data under `.zekt/`, the GitHub API double (unless `GITHUB_API_URL` names a real GitHub or
 * the environment gives an existing App's secrets), the control plane with its local resource
 * manager (local target), then the platform's function table on the local host, and the webhook
 * proxy's forwarding when `WEBHOOK_PROXY_URL` is set. Returns the URLs and one `stop()` that ends
 * them in reverse order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadLocalSettings } from '../runtime/config.ts';
import { createLogger, type Logger } from '../runtime/core/logger.ts';
import { zektVersion } from '../runtime/core/version.ts';
import { createStorage } from '../runtime/storage/create-storage.ts';
import { createLocalHost } from '../runtime/local-host/create-local-host.ts';
import { createPlatformFunctions } from '../runtime/platform/platform-functions.ts';
import { startAzurite } from './azurite/start-azurite.ts';
import { seedDefaultWorld } from './github-double/seed-default-world.ts';
import { startGitHubDouble, type GitHubDouble } from './github-double/start-github-double.ts';
import { localVaultClientOptions, startLocalControlPlane, type LocalControlPlane } from './start-local-control-plane.ts';
import { freePort } from './free-port.ts';
import { createKeyVaultSecretStore } from '../runtime/core/secret-store.ts';
import { createLocalIdentityCredential, verifyLocalIdentityToken } from '../runtime/core/local-identity.ts';
import { createPlatformParts } from '../runtime/platform/create-platform-parts.ts';
import { platformStorageResources } from '../runtime/platform/platform-storage-layout.ts';
import { tenantResourceNames } from '../tenant-stack/resource-names.ts';
import { seedPlatformVault } from './seed-platform-vault.ts';
import { readExistingGitHubApp } from './read-existing-github-app.ts';
import { startWebhookProxy } from './start-webhook-proxy.ts';

export interface LocalPlatformOptions {
  /** The settings, read only through `runtime/config.ts`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder for local state (Azurite data, engine state); `.zekt` by default. */
  readonly stateDir?: string;
  /** Keep Azurite in memory instead of under `stateDir` (tests). */
  readonly inMemory?: boolean;
  /** Port of the GitHub double; 0 (default) picks a free one. */
  readonly githubDoublePort?: number;
  readonly log?: Logger;
}

export interface LocalPlatform {
  readonly platformUrl: string;
  readonly storage: { readonly blob: string; readonly queue: string; readonly table: string };
  /** The GitHub double the platform talks to; absent when a real GitHub is configured. */
  readonly githubDouble?: GitHubDouble;
  /** The control plane and its resource manager; absent when tenants target Azure. */
  readonly controlPlane?: LocalControlPlane;
  /** The ingress and identity, as wired (tests reach their stores through it). */
  readonly parts?: ReturnType<typeof createPlatformParts>;
  /** The webhook proxy channel forwarded to the platform's webhook route, when one is set. */
  readonly webhookProxy?: { readonly source: string; readonly target: string };
  stop(): Promise<void>;
}

export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const local = loadLocalSettings(options.env);
  const stateDir = path.resolve(options.stateDir ?? local.stateDir);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn();
  };
  try {
    // An existing App's key file is read first, so a wrong path fails before anything starts.
    const existingApp = local.githubApp ? await readExistingGitHubApp(local.githubApp) : undefined;
    const azurite = await startAzurite(options.inMemory ? {} : { location: path.join(stateDir, 'azurite') });
    stops.push(() => azurite.stop());
    const filled: Record<string, string> = {
      ...(local.storageGiven ? {} : { ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString() }),
      ZEKT_STATE_DIR: stateDir,
    };
    // Read once before the double starts, for the log level and bind address (and to fail early).
    const preliminary = loadConfig(options.env, filled);
    const log = options.log ?? createLogger({ level: preliminary.logLevel });
    let githubDouble: GitHubDouble | undefined;
    if (!preliminary.given.has('GITHUB_API_URL') && !existingApp) {
      githubDouble = await startGitHubDouble({
        host: preliminary.host,
        port: options.githubDoublePort ?? 0,
        log: log.child({ component: 'github-double' }),
      });
      const double = githubDouble;
      stops.push(() => double.close());
      seedDefaultWorld(double);
    }
    // The platform's address is fixed before anything needs it (OAuth callback, the tenants' broker URL).
    const port = preliminary.port === 0 ? await freePort(preliminary.host) : preliminary.port;
    const publicUrl = preliminary.publicUrl ?? `http://${preliminary.host}:${port}`;
    const withGitHub: Record<string, string> = {
      ...filled,
      ...(githubDouble
        ? {
            GITHUB_API_URL: githubDouble.apiUrl,
            GITHUB_WEB_URL: githubDouble.webUrl,
            GITHUB_OIDC_ISSUER: githubDouble.oidcIssuer,
            GITHUB_APP_ID: preliminary.identity.appId ?? String(githubDouble.app.id),
            GITHUB_APP_CLIENT_ID: preliminary.identity.appClientId ?? githubDouble.app.clientId,
          }
        : {}),
      ZEKT_PORT: String(port),
      ZEKT_PUBLIC_URL: publicUrl,
    };
    const storage = createStorage(preliminary.storage);
    // On Azure the platform's Pulumi program creates these; locally the platform does, idempotently.
    await storage.ensure(platformStorageResources);
    let controlPlane: LocalControlPlane | undefined;
    if (preliminary.controlPlane.target === 'local') {
      // An in-memory platform (tests) gets throwaway control-plane state and a free manager port.
      const ephemeral = options.inMemory ? await mkdtemp(path.join(os.tmpdir(), 'zekt-platform-')) : undefined;
      if (ephemeral) stops.push(() => rm(ephemeral, { recursive: true, force: true }));
      // The resource manager also serves the platform's local vault (its URL becomes a setting).
      controlPlane = await startLocalControlPlane({
        config: loadConfig(options.env, ephemeral ? { ...withGitHub, ZEKT_STATE_DIR: ephemeral } : withGitHub),
        storage,
        log,
        ...(ephemeral && !preliminary.given.has('ZEKT_RESOURCE_MANAGER_PORT') ? { managerPort: 0 } : {}),
      });
      const started = controlPlane;
      stops.push(() => started.stop());
    }
    if (existingApp && !controlPlane) {
      log.warn('GITHUB_APP_PRIVATE_KEY_PATH and the App secrets go into the local platform vault, which only the local target has; they are not used');
    }
    const config = loadConfig(
      options.env,
      controlPlane && !preliminary.platformVaultUrl ? { ...withGitHub, ZEKT_PLATFORM_VAULT_URL: controlPlane.manager.platform.vaultUrl } : withGitHub,
    );
    let parts: ReturnType<typeof createPlatformParts> | undefined;
    if (controlPlane) {
      const manager = controlPlane.manager;
      // The App's secrets: the double's fresh App, or the existing App the environment names
      // (otherwise those `zekt app create` stored stay as they are).
      await seedPlatformVault(controlPlane.platformVault, githubDouble?.app ?? existingApp);
      const registryForBroker = controlPlane.registry;
      parts = createPlatformParts({
        config,
        storage,
        secrets: createKeyVaultSecretStore({
          vaultUrl: config.platformVaultUrl ?? manager.platform.vaultUrl,
          credential: createLocalIdentityCredential(manager.platform.identity),
          clientOptions: localVaultClientOptions(manager.caCert),
        }),
        // A tenant runtime's local identity token: its tenant (from the registry) names the identity
        // whose secret checks the signature — the same checks an Entra token gets on Azure.
        verifyCallerToken: async (token) => {
          const claimedClientId = claimedLocalClientId(token);
          if (!claimedClientId) return undefined;
          const owner = await registryForBroker.findByIdentity(claimedClientId);
          if (!owner) return undefined;
          const identity = manager.resources.getIdentity(tenantResourceNames(owner.tenantId, owner.creationId).identity);
          return verifyLocalIdentityToken(token, (cid) => (cid === identity?.clientId ? identity.clientSecret : undefined), {
            audience: config.identity.brokerAudience,
          });
        },
        publicUrl,
        log,
      });
    }
    const host = await createLocalHost({
      table: createPlatformFunctions({
        config,
        storage,
        log,
        version: zektVersion,
        ...(controlPlane ? { provisioning: controlPlane.worker.handle } : {}),
        ...(parts ? { parts } : {}),
      }),
      storage,
      log,
      host: config.host,
      port,
    });
    stops.push(() => host.close());
    if (githubDouble) {
      // GitHub delivers the App's webhooks to the platform and sends signed-in users back to it.
      githubDouble.setWebhookUrl(`${publicUrl}/api/github/webhooks`);
      githubDouble.setCallbackUrls([`${publicUrl}/api/auth/callback`]);
    }
    let webhookProxy: LocalPlatform['webhookProxy'];
    if (local.webhookProxyUrl) {
      webhookProxy = { source: local.webhookProxyUrl, target: `${host.url}/api/github/webhooks` };
      const proxy = await startWebhookProxy({ ...webhookProxy, log });
      stops.push(() => proxy.stop());
    }
    return {
      platformUrl: host.url,
      storage: {
        blob: `http://${azurite.host}:${azurite.blobPort}`,
        queue: `http://${azurite.host}:${azurite.queuePort}`,
        table: `http://${azurite.host}:${azurite.tablePort}`,
      },
      ...(githubDouble ? { githubDouble } : {}),
      ...(controlPlane ? { controlPlane } : {}),
      ...(parts ? { parts } : {}),
      ...(webhookProxy ? { webhookProxy } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The client id a local identity token claims (unverified: only to find whose secret checks it). */
function claimedLocalClientId(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { cid?: unknown };
    return typeof claims.cid === 'string' ? claims.cid : undefined;
  } catch {
    return undefined;
  }
}
