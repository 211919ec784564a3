/**
 * The local resource manager: what the local target's Pulumi dynamic resources call, so that the
 * compartments they create (identity, Azurite storage account, Key Vault-compatible vault, function
 * runtime) are real processes and endpoints that outlive `pulumi up` and come back after a restart.
 * Started by `npm start` and by the tests. Its state (keys, secrets, ports) lives encrypted under
 * `<state dir>/resource-manager/`; it also serves the platform's own local vault, where the Pulumi
 * passphrase and the tenants' forward secrets are kept.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import selfsigned from 'selfsigned';
import type { Logger } from '../../runtime/core/logger.ts';
import type { LocalIdentity } from '../../runtime/core/local-identity.ts';
import { encryptedFile, loadOrCreateMasterKey } from './encrypted-file.ts';
import { openStateStore, type ResourceManagerState } from './resource-manager-state.ts';
import { createRuntimeSupervisor } from './function-runtimes.ts';
import { createLocalResources, platformOwner, type LocalResources } from './local-resources.ts';
import { serveAdminApi } from './admin-api.ts';

/** Names of the platform's own local identity and vault. Tenant names start `id-zekt-` / `kv`. */
export const platformIdentityName = 'zekt-platform';
export const platformVaultName = 'zekt-platform';

export interface ResourceManagerOptions {
  /** The platform state dir (`.zekt`); the manager keeps its files in `resource-manager/` below it. */
  readonly stateDir: string;
  readonly host?: string;
  /** Admin API port; 0 picks a free one (tests). */
  readonly port?: number;
  readonly log: Logger;
}

export interface ResourceManager {
  /** Admin API base URL (what dynamic providers call). */
  readonly url: string;
  /** Bearer token of the admin API. A secret: pass it only as a Pulumi secret input. */
  readonly adminToken: string;
  /** PEM file of the vaults' self-signed certificate (for `NODE_EXTRA_CA_CERTS`). */
  readonly caFile: string;
  readonly caCert: string;
  /** The platform's local vault and the identity it accepts. */
  readonly platform: { readonly vaultName: string; readonly vaultUrl: string; readonly identity: LocalIdentity };
  readonly resources: LocalResources;
  stop(): Promise<void>;
}

async function createCertificate(host: string): Promise<{ key: string; cert: string; notAfter: string }> {
  const notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'Zekt local vault' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: host },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, notAfter: notAfter.toISOString() };
}

export async function startResourceManager(options: ResourceManagerOptions): Promise<ResourceManager> {
  const host = options.host ?? '127.0.0.1';
  const dir = path.join(path.resolve(options.stateDir), 'resource-manager');
  const key = await loadOrCreateMasterKey(dir);
  const store = await openStateStore(encryptedFile<ResourceManagerState>(path.join(dir, 'state.json.enc'), key), () => ({
    adminToken: randomBytes(32).toString('base64url'),
    identities: {},
    storageAccounts: {},
    vaults: {},
    functionRuntimes: {},
  }));

  // A certificate near its end is replaced; clients read the CA file afresh at each start.
  const tls = store.current().tls;
  if (!tls || Date.parse(tls.notAfter) - Date.now() < 30 * 24 * 3600 * 1000) {
    const fresh = await createCertificate(host);
    await store.update((state) => ({ ...state, tls: fresh }));
  } else {
    await store.update((state) => state);
  }
  const { key: tlsKey, cert } = store.current().tls as { key: string; cert: string };
  const caFile = path.join(dir, 'ca.pem');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(caFile, cert, { mode: 0o644 });

  const stateDir = path.resolve(options.stateDir);
  const runtimes = createRuntimeSupervisor({ stateDir, host, caFile, log: options.log });
  const resources = createLocalResources({ stateDir, host, store, tls: { key: tlsKey, cert }, runtimes, log: options.log });
  const stops: (() => Promise<void>)[] = [() => resources.stopAll()];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => options.log.error({ err }, 'resource manager stop step failed'));
  };
  try {
    await resources.startAll();
    const identity = await resources.putIdentity(platformIdentityName, { tenantId: platformOwner });
    const vault = await resources.putVault(platformVaultName, { tenantId: platformOwner, readers: [identity.clientId] });
    const api = await serveAdminApi({ resources, adminToken: store.current().adminToken, host, port: options.port ?? 0, log: options.log });
    stops.push(() => api.close());
    return {
      url: api.url,
      adminToken: store.current().adminToken,
      caFile,
      caCert: cert,
      platform: {
        vaultName: platformVaultName,
        vaultUrl: vault.vaultUri,
        identity: { clientId: identity.clientId, secret: identity.clientSecret },
      },
      resources,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
