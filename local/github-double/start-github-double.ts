/**
 * The GitHub API double: one `node:http` server standing in for GitHub, laid out like GitHub
 * Enterprise Server so clients need nothing but base URLs —
 *
 * - REST API under `/api/v3` (`apiUrl`), every request and response checked against GitHub's
 *   OpenAPI description (`serve-rest-api.ts`);
 * - the web host at the root (`webUrl`): the OAuth web flow under `/login/oauth/*`
 *   (`@octokit/oauth-methods` derives it from `apiUrl` by dropping `/api/v3`, as for GHES);
 * - the Actions OIDC issuer under `/_services/token` (`oidcIssuer`), GHES's issuer path;
 * - the control API under `/_double` (`controlUrl`, loopback clients only, `control-api.ts`).
 *
 * Tests start it in-process with their own seed; `npm start` starts it with the default seed.
 * Keys and secrets are generated at start and live only in memory. This file wires the parts and
 * owns the socket.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ApiRoutes } from './api-route.ts';
import { createAppRoutes } from './app-routes.ts';
import { controlBase, createControlApi } from './control-api.ts';
import type { AppOptions, GitHubAppCredentials, GitHubDouble, SchemaErrorRecord, StartGitHubDoubleOptions } from './github-double-types.ts';
import type { DoubleRequest, DoubleResponse } from './http-exchange.ts';
import { createAppManifestRoutes } from './app-manifest-routes.ts';
import { createInstallationRoutes, type RecordedDispatch } from './installation-routes.ts';
import { createInstallationTokens, randomToken } from './installation-tokens.ts';
import type { JsonObject } from './json.ts';
import { createMembershipRoutes } from './membership-routes.ts';
import { createOAuthWebFlow } from './oauth-web-flow.ts';
import { createOidcIssuer } from './oidc-issuer.ts';
import { createOpenApiValidator } from './openapi-validator.ts';
import { createPayloadBuilders, type WebhookEvent } from './payload-builders.ts';
import { authenticatedLimitPerHour, createRateLimiter } from './rate-limit.ts';
import { createRepositoryCommits } from './repository-commits.ts';
import { createRepresentations } from './representations.ts';
import { generateRsaKeyPair } from './rsa-keys.ts';
import { createSecondaryRateLimiter } from './secondary-rate-limit.ts';
import { createRestApi, restBase } from './serve-rest-api.ts';
import { GitHubState, type App, type Permissions, UnknownEntityError } from './state.ts';
import { createUserRoutes } from './user-routes.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { createWebhookValidator } from './webhook-validator.ts';
import { createWorkflowRuns } from './workflow-runs.ts';

export type { AppOptions, GitHubAppCredentials, GitHubDouble, SchemaErrorRecord, StartGitHubDoubleOptions } from './github-double-types.ts';
export { supportedApiVersions } from './serve-rest-api.ts';

/** Bodies larger than this are refused before they are read to the end (GitHub's webhook cap, 25 MB). */
const maxRequestBodyBytes = 25 * 1024 * 1024;
const oidcBase = '/_services/token';

/**
 * What Zekt's App asks for by default — the permissions and events of `github-app/manifest.json`:
 * Actions events in, dispatches and its config file out, organisation roles for binding.
 */
export const defaultAppPermissions: Permissions = { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read', members: 'read' };
export const defaultAppEvents: readonly string[] = ['workflow_run', 'workflow_job', 'push'];
export const defaultSingleFilePaths: readonly string[] = ['.github/zekt.yml'];

export async function startGitHubDouble(options: StartGitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const log = options.log;
  const state = new GitHubState(now);
  const schemaErrors: SchemaErrorRecord[] = [];
  const dispatches: RecordedDispatch[] = [];
  const record = (error: SchemaErrorRecord) => {
    schemaErrors.push(error);
    log?.warn({ githubDouble: error }, 'GitHub double: request or payload breaks GitHub\'s description');
  };

  const [validator, mainKeys] = await Promise.all([createOpenApiValidator(), generateRsaKeyPair()]);
  const webhookValidator = createWebhookValidator();

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
  const urls = { api: `${origin}${restBase}`, web: origin };
  const oidcIssuerUrl = `${origin}${oidcBase}`;
  const controlUrl = `${origin}${controlBase}`;

  const representations = createRepresentations(urls);
  const tokens = createInstallationTokens({ state, now });
  const oauth = createOAuthWebFlow({
    state,
    now,
    onSchemaError: (endpoint, problems) => record({ kind: 'invalid-request', endpoint, problems }),
  });
  const oidc = await createOidcIssuer({ issuer: oidcIssuerUrl, state, now });
  const sender = createWebhookSender({
    validator: webhookValidator,
    now,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {}),
    onSchemaError: (webhook, problems) => record({ kind: 'invalid-webhook', endpoint: webhook, problems }),
  });
  const secondaryLimiter = createSecondaryRateLimiter({ now, ...(options.secondaryRateBudget ? { budget: options.secondaryRateBudget } : {}) });

  function registerApp(appOptions: AppOptions, keys: Awaited<ReturnType<typeof generateRsaKeyPair>>): App {
    return state.addApp({
      slug: appOptions.slug ?? 'zekt',
      name: appOptions.name ?? appOptions.slug ?? 'Zekt',
      owner: appOptions.owner ?? 'zekt',
      permissions: appOptions.permissions ?? defaultAppPermissions,
      events: appOptions.events ?? defaultAppEvents,
      singleFilePaths: appOptions.singleFilePaths ?? defaultSingleFilePaths,
      callbackUrls: appOptions.callbackUrls ?? [],
      ...(appOptions.webhookUrl !== undefined ? { webhookUrl: appOptions.webhookUrl } : {}),
      // GitHub App client ids look like `Iv23li…`; secrets are 40 hex characters.
      clientId: `Iv23li${randomToken(14)}`,
      clientSecret: randomBytes(20).toString('hex'),
      webhookSecret: randomBytes(32).toString('hex'),
      privateKey: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      publicKey: keys.publicKey,
    });
  }
  const mainApp = registerApp(options.app ?? {}, mainKeys);
  const payloads = createPayloadBuilders({ state, urls, representations, now, mainApp: () => mainApp });
  const sendToMainApp = (event: WebhookEvent) => sender.send({ app: mainApp, event: event.event, payload: event.payload });
  const runs = createWorkflowRuns({ state, payloads, oidc, mainApp: () => mainApp, send: sendToMainApp, controlUrl, webUrl: urls.web, now });
  const commitFile = createRepositoryCommits({ state, payloads, mainApp: () => mainApp, send: sendToMainApp, now });
  const manifests = createAppManifestRoutes({ state, validator, representations, restBase, now, registerApp: async (o) => registerApp(o, await generateRsaKeyPair()) });

  const routes: ApiRoutes = {
    ...createAppRoutes({ state, tokens, representations, sender }),
    ...createInstallationRoutes({ state, tokens, representations, urls, now, dispatches }),
    ...createUserRoutes({ state, representations }),
    ...createMembershipRoutes({ state, representations }),
  };
  const serveApi = createRestApi({
    state,
    validator,
    routes,
    tokens,
    oauth,
    rateLimiter: createRateLimiter({ now }),
    secondaryLimiter,
    limit: options.rateLimitPerHour ?? authenticatedLimitPerHour,
    now,
    record,
  });

  async function installApp(input: Parameters<GitHubDouble['installApp']>[0]) {
    const installation = state.addInstallation(mainApp, input);
    await sendToMainApp(payloads.installation({ action: 'created', installationId: installation.id }));
    return installation;
  }

  const serveControl = createControlApi({
    state,
    mainApp: () => mainApp,
    runs,
    commitFile,
    installApp,
    async addRepository(input) {
      const repository = state.addRepository(input);
      // An installation on all of the owner's repositories gains the new one, and GitHub says so.
      const all = [...state.installations.values()].find(
        (i) => i.app.id === mainApp.id && i.account.id === repository.owner.id && i.repositorySelection === 'all',
      );
      if (all) await sendToMainApp(payloads.installationRepositories({ action: 'added', installationId: all.id, repositories: [repository.name] }));
      return { id: repository.id, full_name: `${repository.owner.login}/${repository.name}`, default_branch: repository.defaultBranch };
    },
    signInAs: (login) => oauth.signInAs(login),
    dispatches,
    deliveries: sender.deliveries,
    secondaryLimiter,
    async changeRepositories(installationId, change) {
      const installation = state.installation(installationId);
      const account = installation.account.login;
      const removed = change.remove.map((name) => state.repository(`${account}/${name}`));
      // Build the payloads around the change: `added` once the repositories are in, `removed` with their names.
      for (const repository of removed) installation.repositoryIds.delete(repository.id);
      const added = change.add.map(
        (name) => state.findRepository(account, name) ?? state.addRepository({ fullName: `${account}/${name}`, ownerType: installation.account.type }),
      );
      for (const repository of added) installation.repositoryIds.add(repository.id);
      if (added.length > 0) await sendToMainApp(payloads.installationRepositories({ action: 'added', installationId, repositories: added.map((r) => r.name) }));
      if (removed.length > 0) await sendToMainApp(payloads.installationRepositories({ action: 'removed', installationId, repositories: removed.map((r) => r.name) }));
      return installation;
    },
    async uninstall(installationId) {
      const deleted = payloads.installation({ action: 'deleted', installationId });
      state.installations.delete(installationId);
      await sendToMainApp(deleted);
    },
  });

  async function serve(request: DoubleRequest, remote: string): Promise<DoubleResponse> {
    const path = request.url.pathname;
    const manifestFlow = await manifests.serve(request);
    if (manifestFlow) return manifestFlow;
    if (path === restBase || path.startsWith(`${restBase}/`)) return serveApi(request, remote);
    if (path === controlBase || path.startsWith(`${controlBase}/`)) return serveControl(request, remote);
    if (path === `${oidcBase}/.well-known/openid-configuration` && request.method === 'GET') {
      return { status: 200, json: oidc.discovery() };
    }
    if (path === `${oidcBase}/.well-known/jwks` && request.method === 'GET') return { status: 200, json: oidc.jwks() };
    if (path === '/login/oauth/authorize' && request.method === 'GET') return oauth.authorize(request);
    if (path === '/login/oauth/access_token' && request.method === 'POST') return oauth.accessToken(request);
    return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: 'Not Found' };
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > maxRequestBodyBytes) {
          res.writeHead(413, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ message: 'Payload Too Large' }));
          req.destroy();
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const request: DoubleRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        url: new URL(req.url ?? '/', origin),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const response = await serve(request, req.socket.remoteAddress ?? '');
      log?.debug({ method: request.method, path: request.url.pathname, status: response.status }, 'GitHub double request');
      const headers: Record<string, string> = { ...response.headers };
      let payload = '';
      if (response.json !== undefined) {
        headers['content-type'] ??= 'application/json; charset=utf-8';
        payload = JSON.stringify(response.json);
      } else if (response.text !== undefined) {
        payload = response.text;
      }
      res.writeHead(response.status, headers);
      res.end(payload);
    })().catch((err: unknown) => {
      log?.error({ err }, 'GitHub double failed to serve a request');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: 'GitHub double internal error' }));
    });
  });

  const appOf = (credentials: GitHubAppCredentials | undefined): App => {
    const app = state.apps.get((credentials ?? mainApp).id);
    if (!app) throw new UnknownEntityError('app', String(credentials?.id));
    return app;
  };

  return {
    apiUrl: urls.api,
    webUrl: urls.web,
    oidcIssuer: oidcIssuerUrl,
    controlUrl,
    app: credentialsOf(mainApp),
    payloads,
    dispatches,
    deliveries: sender.deliveries,
    schemaErrors,
    takeSchemaErrors: () => schemaErrors.splice(0, schemaErrors.length),
    addUser: (input) => state.addUser(input),
    addOrganization: (input) => state.addOrganization(input),
    setOrganizationRole: (organization, login, role) => state.setMembership(organization, state.user(login), role),
    addRepository: (input) => state.addRepository(input),
    setFile(repository, path, content) {
      const repo = state.repository(repository);
      if (content === undefined) repo.files.delete(path);
      else repo.files.set(path, content);
    },
    commitFile,
    addInstallation: ({ app, ...input }) => state.addInstallation(appOf(app), input),
    installApp,
    runs,
    setSecondaryRateBudget: (change, installationId) => secondaryLimiter.setBudget(change, installationId),
    removeInstallation(installationId) {
      state.installation(installationId);
      state.installations.delete(installationId);
    },
    setInstallationSuspended(installationId, suspended) {
      state.installation(installationId).suspendedAt = suspended ? new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
    },
    async addApp(appOptions = {}) {
      return credentialsOf(registerApp(appOptions, await generateRsaKeyPair()));
    },
    setWebhookUrl(url, app) {
      appOf(app).webhookUrl = url;
    },
    setCallbackUrls(callbackUrls, app) {
      const target = appOf(app);
      target.callbackUrls.splice(0, target.callbackUrls.length, ...callbackUrls);
    },
    signInAs: (login) => oauth.signInAs(login),
    issueOidcToken: (input) => oidc.issue(input),
    rotateOidcKey: () => oidc.rotateKey(),
    sendWebhook: ({ app, event, payload }) => sender.send({ app: appOf(app), event, payload: payload as JsonObject }),
    settled: () => sender.settled(),
    async close() {
      await sender.settled();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function credentialsOf(app: App): GitHubAppCredentials {
  return {
    id: app.id,
    slug: app.slug,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    privateKey: app.privateKey,
    webhookSecret: app.webhookSecret,
    hookId: app.hookId,
  };
}
