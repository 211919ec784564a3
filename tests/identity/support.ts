/**
 * The platform's identity functions on a real local host, against Azurite and the GitHub API
 * double, with the control plane's registry and queue behind signup. A `Browser` follows
 * redirects by hand and keeps cookies, so a test walks the OAuth flow as a user would; every
 * response it sees is kept for the token scan.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../local/free-port.ts';
import type { AzuriteInstance } from '../../local/azurite/start-azurite.ts';
import { isolatedAzurite } from '../support/azurite.ts';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { createStorage, type Storage } from '../../runtime/storage/create-storage.ts';
import { platformStorageResources, platformStorageLayout } from '../../runtime/platform/platform-storage-layout.ts';
import { cachedSecretStore, platformSecretNames } from '../../runtime/core/secret-store.ts';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createIdentity } from '../../runtime/identity/create-identity.ts';
import { createTenantAccountsStore } from '../../runtime/identity/tenant-accounts-store.ts';
import { createInstallationRegistry, type InstallationRegistry } from '../../runtime/platform/installation-registry.ts';
import { createTenantRegistry, type TenantRegistry } from '../../automation/tenant-registry.ts';
import { createJobQueue } from '../../automation/provisioning-jobs.ts';
import { signLocalIdentityToken, verifyLocalIdentityToken, type LocalIdentity } from '../../runtime/core/local-identity.ts';
import type { IdentityConfig } from '../../runtime/config.ts';
import { memoryLogger } from '../support/logs.ts';

export interface Seen {
  readonly url: string;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** Every platform response of the suite, for the token scan (tests/identity/token-scan.test.ts). */
export const seenResponses: Seen[] = [];
export const seenLogLines: string[] = [];

export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly harness: { readonly platformUrl: string }) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const host = new URL(url).host;
    if (host === new URL(this.harness.platformUrl).host && this.cookies.size) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq);
      const value = (pair as string).slice(eq + 1);
      if (/Max-Age=0/i.test(cookie) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if (url.startsWith(this.harness.platformUrl)) {
      const body = await res.clone().text();
      seenResponses.push({ url, status: res.status, headers: JSON.stringify([...res.headers]), body });
    }
    return res;
  }

  /** Follows redirects from `url` until a non-redirect answer; returns the chain's last response. */
  async follow(url: string, max = 5): Promise<{ response: Response; visited: string[] }> {
    const visited = [url];
    let response = await this.fetch(url);
    while (response.status >= 300 && response.status < 400 && visited.length <= max) {
      const next = new URL(response.headers.get('location') as string, visited.at(-1)).toString();
      visited.push(next);
      response = await this.fetch(next);
    }
    return { response, visited };
  }

  /** The whole sign-in: login → GitHub (double) consent → callback → session. */
  async signIn(): Promise<Response> {
    const { response } = await this.follow(`${this.harness.platformUrl}/api/auth/login`);
    return response;
  }

  csrf(): string {
    return this.cookies.get('zekt_csrf') ?? '';
  }

  post(path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
    return this.fetch(`${this.harness.platformUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-zekt-csrf': this.csrf(), origin: this.harness.platformUrl, ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}

export interface IdentityHarness {
  readonly azurite: AzuriteInstance;
  readonly storage: Storage;
  readonly double: GitHubDouble;
  readonly host: LocalHost;
  readonly platformUrl: string;
  readonly registry: TenantRegistry;
  readonly installations: InstallationRegistry;
  readonly released: number[];
  /** The identity's function table entries (tests run its timers by hand). */
  readonly functions: ReturnType<typeof createIdentity>['functions'];
  readonly lines: Record<string, unknown>[];
  /** Shifts the platform's clock (state and session expiry). */
  advanceClock(ms: number): void;
  /** A tenant runtime's identity, registered as the tenant's (what the resource manager does). */
  tenantIdentity(tenantId: string): LocalIdentity;
  brokerToken(identity: LocalIdentity, audience?: string): string;
  close(): Promise<void>;
}

export const identityConfig = (double: GitHubDouble): IdentityConfig => ({
  appId: String(double.app.id),
  appClientId: double.app.clientId,
  sessionTtlSeconds: 8 * 3600,
  authStateTtlSeconds: 600,
  brokerAudience: 'api://zekt-broker',
  loginRatePerMinute: 1000,
});

export async function startIdentityHarness(overrides: Partial<IdentityConfig> = {}): Promise<IdentityHarness> {
  const azurite = await isolatedAzurite();
  const storage = createStorage({ kind: 'connection-string', connectionString: azurite.connectionString() });
  await storage.ensure(platformStorageResources);
  const port = await freePort();
  const platformUrl = `http://127.0.0.1:${port}`;
  const double = await startGitHubDouble({ app: { callbackUrls: [`${platformUrl}/api/auth/callback`] } });
  const secrets = new Map<string, string>([
    [platformSecretNames.oauthClientSecret, double.app.clientSecret],
    [platformSecretNames.appPrivateKey, double.app.privateKey],
    [platformSecretNames.sessionKey, randomBytes(32).toString('base64')],
  ]);
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const { log, lines, raw } = memoryLogger('debug');
  const registry = createTenantRegistry({ table: storage.table(platformStorageLayout.tables.tenants), now });
  const jobs = createJobQueue(storage.queue(platformStorageLayout.queues.provisioning));
  const installations = createInstallationRegistry(storage.table(platformStorageLayout.tables.installations));
  const identities = new Map<string, { identity: LocalIdentity; tenantId: string }>();
  const released: number[] = [];
  const identity = createIdentity({
    storage,
    // The vault is not under test here: a map behind the same SecretStore interface.
    secrets: cachedSecretStore(async (name) => secrets.get(name), 0),
    config: { ...identityConfig(double), ...overrides },
    github: { apiUrl: double.apiUrl, webUrl: double.webUrl },
    publicUrl: platformUrl,
    tenants: createTenantAccountsStore(storage.table(platformStorageLayout.tables.accounts), { registry, jobs }, now),
    installations,
    releaseParked: async (id) => {
      released.push(id);
      return 0;
    },
    verifyCallerToken: async (token) =>
      verifyLocalIdentityToken(token, (cid) => identities.get(cid)?.identity.secret, { audience: 'api://zekt-broker', now: now().getTime() }),
    tenantForIdentity: async (cid) => identities.get(cid)?.tenantId,
    log,
    now,
  });
  const host = await createLocalHost({ table: identity.functions, log, port });
  const harness: IdentityHarness = {
    azurite,
    storage,
    double,
    host,
    platformUrl,
    registry,
    installations,
    released,
    functions: identity.functions,
    lines,
    advanceClock: (ms) => void (offset += ms),
    tenantIdentity(tenantId) {
      const id: LocalIdentity = { clientId: `id-zekt-${tenantId}`, secret: randomBytes(32).toString('hex') };
      identities.set(id.clientId, { identity: id, tenantId });
      return id;
    },
    brokerToken: (id, audience = 'api://zekt-broker') => signLocalIdentityToken(id, audience, { now: now().getTime() }).token,
    async close() {
      seenLogLines.push(...raw);
      await host.close();
      await double.close();
      await azurite.stop();
    },
  };
  return harness;
}
