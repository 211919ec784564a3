/**
 * Wires sign-in, signup, installation binding and the token broker onto the platform's storage and
 * vault, and returns their entries for the platform's function table. Secrets (OAuth client secret,
 * App private key, session key) are read from the platform vault when first needed.
 */
import { createAppAuth } from '@octokit/auth-app';
import { request as octokitRequest } from '@octokit/request';
import type { Logger } from '../core/logger.ts';
import type { SecretStore } from '../core/secret-store.ts';
import { platformSecretNames } from '../core/secret-store.ts';
import { createSecretBox, type SecretBox } from '../core/secret-box.ts';
import type { Storage } from '../storage/create-storage.ts';
import type { FunctionDefinition } from '../functions/function-table.ts';
import type { IdentityConfig } from '../config.ts';
import { platformStorageLayout } from '../platform/platform-storage-layout.ts';
import type { InstallationRegistry } from '../platform/installation-registry.ts';
import { createAuthStateStore } from './auth-state-store.ts';
import { createLoginRateLimit } from './login-rate-limit.ts';
import { purgeSignInState } from './purge-sign-in-state.ts';
import { createSessionStore } from './session-store.ts';
import { cookiePolicy } from './cookies.ts';
import { createGitHubOAuth, type GitHubOAuth } from './github-oauth.ts';
import { createSessionGuard } from './require-session.ts';
import { createSignInHandlers } from './sign-in-handlers.ts';
import { createTenantHandlers } from './tenant-handlers.ts';
import { createInstallationHandlers } from './installation-handlers.ts';
import { createTokenBroker } from './token-broker.ts';
import { createBrokerHandler } from './broker-handler.ts';
import { createCallerAuthenticator, type VerifyCallerToken } from './caller-authenticator.ts';
import type { TenantAccounts } from './tenant-accounts.ts';
import type { ForwardSecrets } from '../ingress/forward-to-tenant.ts';
import { createTenantApiProxy } from './tenant-api-proxy.ts';
import { createAccountContacts } from './account-contacts.ts';
import { createAccountHandlers } from './account-handlers.ts';
import { presentSetupResult } from '../console/present-setup-result.ts';

export class IdentityNotConfiguredError extends Error {
  override name = 'IdentityNotConfiguredError';
}

export interface IdentityDeps {
  readonly storage: Storage;
  readonly secrets: SecretStore;
  readonly config: IdentityConfig;
  readonly github: { readonly apiUrl: string; readonly webUrl: string };
  /** The platform's public base URL (callback, cookies' Secure flag, CSRF origin). */
  readonly publicUrl: string;
  readonly tenants: TenantAccounts;
  readonly installations: InstallationRegistry;
  readonly releaseParked: (installationId: number) => Promise<number>;
  readonly verifyCallerToken: VerifyCallerToken;
  readonly tenantForIdentity: (identity: string) => Promise<string | undefined>;
  /** A tenant's forward-signing secrets: with them the owner's tenant API proxy (`/api/tenant/…`) is served. */
  readonly tenantForwardSecrets?: (tenantId: string) => Promise<ForwardSecrets | undefined>;
  readonly log: Logger;
  readonly now?: () => Date;
}

export function createIdentity(deps: IdentityDeps) {
  const { tables } = platformStorageLayout;
  const log = deps.log.child({ part: 'identity' });
  const now = deps.now ?? (() => new Date());

  async function required(name: string): Promise<string> {
    const value = await deps.secrets.get(name);
    if (!value) throw new IdentityNotConfiguredError(`the platform vault has no secret "${name}"`);
    return value;
  }
  // The box is created on first use (the session key lives in the vault) and then reused.
  let boxPromise: Promise<SecretBox> | undefined;
  const box = (): Promise<SecretBox> => (boxPromise ??= required(platformSecretNames.sessionKey).then(createSecretBox));
  const cookies = cookiePolicy(deps.publicUrl);
  async function stores() {
    const b = await box();
    return {
      states: createAuthStateStore(deps.storage.table(tables.authStates), b, { ttlMs: deps.config.authStateTtlSeconds * 1000, now }),
      sessions: createSessionStore(deps.storage.table(tables.sessions), b, { ttlMs: deps.config.sessionTtlSeconds * 1000, now }),
    };
  }
  let storesPromise: ReturnType<typeof stores> | undefined;
  const getStores = () => (storesPromise ??= stores().catch((err: unknown) => {
    storesPromise = undefined;
    boxPromise = undefined;
    throw err;
  }));

  let oauthPromise: Promise<GitHubOAuth> | undefined;
  const oauth = () =>
    (oauthPromise ??= (async () => {
      if (!deps.config.appClientId) throw new IdentityNotConfiguredError('GITHUB_APP_CLIENT_ID is not set');
      return createGitHubOAuth({
        webUrl: deps.github.webUrl,
        apiUrl: deps.github.apiUrl,
        clientId: deps.config.appClientId,
        clientSecret: await required(platformSecretNames.oauthClientSecret),
        redirectUrl: `${deps.publicUrl}/api/auth/callback`,
      });
    })().catch((err: unknown) => {
      oauthPromise = undefined;
      throw err;
    }));

  let appAuthPromise: Promise<ReturnType<typeof createAppAuth>> | undefined;
  const appAuth = () =>
    (appAuthPromise ??= (async () => {
      if (!deps.config.appId) throw new IdentityNotConfiguredError('GITHUB_APP_ID is not set');
      return createAppAuth({
        appId: deps.config.appId,
        privateKey: await required(platformSecretNames.appPrivateKey),
        request: octokitRequest.defaults({ baseUrl: deps.github.apiUrl }),
      });
    })().catch((err: unknown) => {
      appAuthPromise = undefined;
      throw err;
    }));

  // Handlers need the stores, which need the vault: build them per request from the cached stores.
  const sessionsFacade = {
    create: async (...args: Parameters<ReturnType<typeof createSessionStore>['create']>) => (await getStores()).sessions.create(...args),
    get: async (id: string | undefined) => (await getStores()).sessions.get(id),
    destroy: async (session: Parameters<ReturnType<typeof createSessionStore>['destroy']>[0]) => (await getStores()).sessions.destroy(session),
  };
  const statesFacade = {
    issue: async (verifier: string) => (await getStores()).states.issue(verifier),
    take: async (state: string | null, nonce: string | undefined) => (await getStores()).states.take(state, nonce),
  };
  const guard = createSessionGuard(sessionsFacade, cookies, deps.publicUrl);
  const signIn = createSignInHandlers({
    oauth,
    states: statesFacade,
    rate: createLoginRateLimit(deps.storage.table(tables.authStates), { perMinute: deps.config.loginRatePerMinute, now }),
    sessions: sessionsFacade,
    guard,
    cookies,
    stateTtlSeconds: deps.config.authStateTtlSeconds,
    sessionTtlSeconds: deps.config.sessionTtlSeconds,
    afterSignIn: `${deps.publicUrl}/overview`,
    publicUrl: deps.publicUrl,
    log,
  });
  const contacts = createAccountContacts(deps.storage.table(tables.accounts), now);
  const tenant = createTenantHandlers({ guard, tenants: deps.tenants, log, contacts });
  const account = createAccountHandlers({ guard, tenants: deps.tenants, contacts, log });
  const installations = createInstallationHandlers({
    guard,
    tenants: deps.tenants,
    installations: deps.installations,
    releaseParked: deps.releaseParked,
    apiUrl: deps.github.apiUrl,
    log,
    now,
  });
  const broker = createTokenBroker({ appAuth, installations: deps.installations, audit: deps.storage.table(tables.tokenAudit), log, now });
  const authenticate = createCallerAuthenticator({ verifyToken: deps.verifyCallerToken, tenantForIdentity: deps.tenantForIdentity });

  const functions: FunctionDefinition[] = [
    { kind: 'http', name: 'authLogin', route: 'auth/login', methods: ['GET'], authLevel: 'anonymous', handler: signIn.login },
    { kind: 'http', name: 'authCallback', route: 'auth/callback', methods: ['GET'], authLevel: 'anonymous', handler: signIn.callback },
    { kind: 'http', name: 'authLogout', route: 'auth/logout', methods: ['POST'], authLevel: 'anonymous', handler: signIn.logout },
    { kind: 'http', name: 'authSession', route: 'auth/session', methods: ['GET'], authLevel: 'anonymous', handler: signIn.session },
    { kind: 'http', name: 'signup', route: 'signup', methods: ['POST'], authLevel: 'anonymous', handler: tenant.signup },
    { kind: 'http', name: 'tenantMe', route: 'tenants/me', methods: ['GET'], authLevel: 'anonymous', handler: tenant.me },
    { kind: 'http', name: 'tenantOffboard', route: 'tenants/me', methods: ['DELETE'], authLevel: 'anonymous', handler: account.offboard },
    { kind: 'http', name: 'account', route: 'account', methods: ['GET'], authLevel: 'anonymous', handler: account.account },
    { kind: 'http', name: 'githubSetup', route: 'github/setup', methods: ['GET'], authLevel: 'anonymous', handler: presentSetupResult(installations.setup, { guard, tenants: deps.tenants }) },
    { kind: 'http', name: 'installations', route: 'installations', methods: ['GET'], authLevel: 'anonymous', handler: installations.list },
    // The broker authenticates its callers itself (tenant identity tokens), so no function key.
    { kind: 'http', name: 'tokens', route: 'tokens', methods: ['POST'], authLevel: 'anonymous', handler: createBrokerHandler({ authenticate, broker }) },
    {
      kind: 'timer',
      name: 'purgeSignInState',
      // States live minutes, sessions hours: every ten minutes keeps both tables near their live size.
      schedule: '0 */10 * * * *',
      handler: async () => {
        await purgeSignInState({ states: deps.storage.table(tables.authStates), sessions: deps.storage.table(tables.sessions), log, now });
      },
    },
  ];
  if (deps.tenantForwardSecrets) {
    functions.push({
      kind: 'http',
      name: 'tenantApi',
      route: 'tenant/{*path}',
      methods: ['GET', 'POST'],
      authLevel: 'anonymous',
      handler: createTenantApiProxy({ guard, tenants: deps.tenants, forwardSecrets: deps.tenantForwardSecrets, log }),
    });
  }
  return { functions, broker };
}

export type Identity = ReturnType<typeof createIdentity>;
