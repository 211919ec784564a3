/**
 * The GitHub API double: one `node:http` server standing in for GitHub, laid out like GitHub
 * Enterprise Server so clients need nothing but base URLs —
 *
 * - REST API under `/api/v3` (`apiUrl`), every request and response checked against GitHub's
 *   OpenAPI description;
 * - the web host at the root (`webUrl`): the OAuth web flow under `/login/oauth/*`
 *   (`@octokit/oauth-methods` derives it from `apiUrl` by dropping `/api/v3`, as for GHES);
 * - the Actions OIDC issuer under `/_services/token` (`oidcIssuer`), GHES's issuer path.
 *
 * Tests start it in-process with their own seed; `npm start` starts it with the default seed.
 * Keys and secrets are generated at start and live only in memory.
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../runtime/core/logger.ts';
import type { ApiRoute, ApiRoutes, Credential, RouteContext } from './api-route.ts';
import { createAppRoutes } from './app-routes.ts';
import { createAppManifestRoutes } from './app-manifest-routes.ts';
import { looksLikeJwt, verifyAppJwt } from './app-jwt.ts';
import { GitHubApiError, badCredentials, notAccessibleByIntegration, notFound, requiresAuthentication } from './github-api-error.ts';
import { header, type DoubleRequest, type DoubleResponse } from './http-exchange.ts';
import { createInstallationRoutes, type RecordedDispatch } from './installation-routes.ts';
import { createInstallationTokens, randomToken } from './installation-tokens.ts';
import type { Json, JsonObject } from './json.ts';
import { createOAuthWebFlow } from './oauth-web-flow.ts';
import { createOidcIssuer, type IssueOidcTokenInput } from './oidc-issuer.ts';
import { createOpenApiValidator } from './openapi-validator.ts';
import { createPayloadBuilders, type PayloadBuilders, type WebhookEvent } from './payload-builders.ts';
import { authenticatedLimitPerHour, createRateLimiter, unauthenticatedLimitPerHour, type RateLimitBucket } from './rate-limit.ts';
import { createRepresentations } from './representations.ts';
import { generateRsaKeyPair } from './rsa-keys.ts';
import {
  GitHubState,
  type AddInstallationInput,
  type AddRepositoryInput,
  type AddUserInput,
  type App,
  type Installation,
  type Permissions,
  type Repository,
  type User,
  UnknownEntityError,
} from './state.ts';
import { createUserRoutes } from './user-routes.ts';
import { createWebhookSender, type WebhookDelivery } from './webhook-sender.ts';
import { createWebhookValidator } from './webhook-validator.ts';

/** The REST API version the double speaks (https://docs.github.com/rest/about-the-rest-api/api-versions). */
export const supportedApiVersions = ['2022-11-28'] as const;
/** Bodies larger than this are refused before they are read to the end (GitHub's webhook cap, 25 MB). */
const maxRequestBodyBytes = 25 * 1024 * 1024;
const restBase = '/api/v3';
const oidcBase = '/_services/token';

/** What Zekt's App asks for by default: Actions events in, dispatches and its config file out. */
export const defaultAppPermissions: Permissions = { actions: 'read', contents: 'write', metadata: 'read' };
export const defaultAppEvents: readonly string[] = ['workflow_run', 'workflow_job'];

export interface AppOptions {
  readonly slug?: string;
  readonly name?: string;
  /** Login of the account that owns the App. */
  readonly owner?: string;
  readonly permissions?: Permissions;
  readonly events?: readonly string[];
  readonly callbackUrls?: readonly string[];
  readonly webhookUrl?: string;
}

export interface StartGitHubDoubleOptions {
  /** Address to bind; `127.0.0.1` by default. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** The main App (Zekt's own); its key and secrets are generated. */
  readonly app?: AppOptions;
  /** Clock in epoch milliseconds; tests pin it to check expiries. */
  readonly now?: () => number;
  /** Used to deliver webhooks; global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** How long a webhook delivery may take (GitHub: 10 s). */
  readonly webhookTimeoutMs?: number;
  /** Requests per hour per authenticated credential (GitHub: 5,000). */
  readonly rateLimitPerHour?: number;
  readonly log?: Logger;
}

/** An App's credentials as GitHub hands them to its owner. */
export interface GitHubAppCredentials {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#1 PEM private key. */
  readonly privateKey: string;
  readonly webhookSecret: string;
  /** Id of the App's webhook (`X-GitHub-Hook-ID`). */
  readonly hookId: number;
}

/** A request or payload that breaks GitHub's published descriptions, or that the double cannot serve. */
export interface SchemaErrorRecord {
  readonly kind: 'unknown-endpoint' | 'invalid-request' | 'invalid-response' | 'invalid-webhook' | 'unimplemented';
  /** `METHOD /template` (or the raw path for unknown endpoints, the webhook key for webhooks). */
  readonly endpoint: string;
  readonly operationId?: string;
  readonly problems: readonly string[];
}

export interface GitHubDouble {
  /** REST API base URL (`GITHUB_API_URL`). */
  readonly apiUrl: string;
  /** Web base URL, OAuth lives here (`GITHUB_WEB_URL`). */
  readonly webUrl: string;
  /** Actions OIDC issuer (`GITHUB_OIDC_ISSUER`). */
  readonly oidcIssuer: string;
  /** The main App's credentials. */
  readonly app: GitHubAppCredentials;
  /** Builders of real-shaped webhook payloads for the double's state. */
  readonly payloads: PayloadBuilders;
  /** Accepted `repository_dispatch` calls, oldest first. */
  readonly dispatches: readonly RecordedDispatch[];
  /** Every webhook delivery attempt, oldest first. */
  readonly deliveries: readonly WebhookDelivery[];
  /** Everything that broke GitHub's descriptions, oldest first. */
  readonly schemaErrors: readonly SchemaErrorRecord[];
  /** Returns the schema errors recorded so far and forgets them. */
  takeSchemaErrors(): SchemaErrorRecord[];
  addUser(input: AddUserInput): User;
  addRepository(input: AddRepositoryInput): Repository;
  /** Writes (or, with `undefined`, deletes) a file on a repository's default branch. */
  setFile(repository: string, path: string, content: string | undefined): void;
  /** Installs an App (the main one by default) on an account. */
  addInstallation(input: AddInstallationInput & { readonly app?: GitHubAppCredentials }): Installation;
  removeInstallation(installationId: number): void;
  setInstallationSuspended(installationId: number, suspended: boolean): void;
  /** Registers another App (for cross-App checks); its key is generated. */
  addApp(options?: AppOptions): Promise<GitHubAppCredentials>;
  setWebhookUrl(url: string | undefined, app?: GitHubAppCredentials): void;
  setCallbackUrls(urls: readonly string[], app?: GitHubAppCredentials): void;
  /** The user who consents in the OAuth flow when the request names none; the first seeded user otherwise. */
  signInAs(login: string | undefined): void;
  issueOidcToken(input: IssueOidcTokenInput): Promise<string>;
  rotateOidcKey(): Promise<void>;
  /** Delivers a webhook (after checking it against GitHub's webhook schemas). */
  sendWebhook(input: WebhookEvent & { readonly app?: GitHubAppCredentials }): Promise<WebhookDelivery>;
  /** Resolves when background work (redeliveries) has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

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
  const rateLimiter = createRateLimiter({ now });
  const limit = options.rateLimitPerHour ?? authenticatedLimitPerHour;

  function registerApp(appOptions: AppOptions, keys: Awaited<ReturnType<typeof generateRsaKeyPair>>): App {
    return state.addApp({
      slug: appOptions.slug ?? 'zekt',
      name: appOptions.name ?? appOptions.slug ?? 'Zekt',
      owner: appOptions.owner ?? 'zekt',
      permissions: appOptions.permissions ?? defaultAppPermissions,
      events: appOptions.events ?? defaultAppEvents,
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
  const manifests = createAppManifestRoutes({ state, validator, representations, restBase, now, registerApp: async (o) => registerApp(o, await generateRsaKeyPair()) });

  const routes: ApiRoutes = {
    ...createAppRoutes({ state, tokens, representations, sender }),
    ...createInstallationRoutes({ state, tokens, representations, urls, now, dispatches }),
    ...createUserRoutes({ state, representations }),
  };

  async function authenticate(request: DoubleRequest): Promise<Credential> {
    const authorization = header(request, 'authorization');
    if (!authorization) return { kind: 'none' };
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw badCredentials();
    const value = match[1] as string;
    if (looksLikeJwt(value)) return { kind: 'app', app: await verifyAppJwt(value, state, now()) };
    if (value.startsWith('ghs_')) {
      const token = tokens.lookup(value);
      if (token) return { kind: 'installation', token };
    }
    if (value.startsWith('ghu_')) {
      const token = oauth.lookup(value);
      if (token) return { kind: 'user', token };
    }
    throw badCredentials();
  }

  function bucketOf(credential: Credential | undefined, request: DoubleRequest, remote: string): RateLimitBucket {
    switch (credential?.kind) {
      case 'app':
        return { key: `app ID ${credential.app.id}`, limit };
      case 'installation':
        return { key: `installation ID ${credential.token.installation.id}`, limit };
      case 'user':
        return { key: `user ID ${credential.token.user.id}`, limit };
      default:
        return { key: remote || request.url.host, limit: unauthenticatedLimitPerHour };
    }
  }

  async function serveApi(request: DoubleRequest, remote: string): Promise<DoubleResponse> {
    const path = request.url.pathname.slice(restBase.length) || '/';
    const match = validator.match(request.method, path);
    const requestId = randomUUID().toUpperCase().slice(0, 23);
    const common = {
      'x-github-request-id': requestId,
      'x-github-api-version-selected': supportedApiVersions[0],
      'x-github-media-type': 'github.v3; format=json',
    };

    let credential: Credential | undefined;
    let authError: GitHubApiError | undefined;
    try {
      credential = await authenticate(request);
    } catch (err) {
      if (!(err instanceof GitHubApiError)) throw err;
      authError = err;
    }
    const limited = rateLimiter.consume(bucketOf(authError ? undefined : credential, request, remote));
    const respond = (response: DoubleResponse): DoubleResponse => ({
      ...response,
      headers: { ...common, ...limited.headers, ...response.headers },
    });
    const fail = (error: GitHubApiError) => respond({ status: error.status, json: error.body() });

    if (match.kind !== 'operation') {
      record({
        kind: 'unknown-endpoint',
        endpoint: `${request.method} ${path}`,
        problems: [
          match.kind === 'method-not-allowed'
            ? `${request.method} is not an operation of ${match.template} in GitHub's REST description`
            : `${path} is not a path of GitHub's REST description`,
        ],
      });
      return fail(notFound());
    }
    const { operation } = match;
    const endpoint = `${operation.method} ${operation.template}`;

    const version = header(request, 'x-github-api-version');
    if (version !== undefined && !(supportedApiVersions as readonly string[]).includes(version)) {
      return fail(new GitHubApiError(400, `API version '${version}' is not supported.`, 'https://docs.github.com/rest/about-the-rest-api/api-versions'));
    }

    let body: Json | undefined;
    if (request.body.length > 0) {
      try {
        body = JSON.parse(request.body.toString('utf8')) as Json;
      } catch (err) {
        record({ kind: 'invalid-request', endpoint, operationId: operation.operationId, problems: ['body is not JSON'] });
        return fail(new GitHubApiError(400, 'Problems parsing JSON', operation.documentationUrl, {}, { cause: err }));
      }
    }
    // The request is checked even when it is refused for other reasons: a malformed call is a bug
    // in the caller whatever GitHub would have answered first.
    const check = validator.checkRequest(operation, { query: request.url.searchParams, body });
    if (check.problems.length > 0) {
      record({ kind: 'invalid-request', endpoint, operationId: operation.operationId, problems: check.problems });
    }

    const route: ApiRoute | undefined = routes[operation.operationId];
    if (!route) {
      record({
        kind: 'unimplemented',
        endpoint,
        operationId: operation.operationId,
        problems: [`the GitHub double does not implement ${operation.operationId}`],
      });
      return respond({ status: 501, json: { message: `Not implemented by the GitHub double: ${endpoint}`, documentation_url: operation.documentationUrl } });
    }
    if (authError) return fail(authError);
    if (limited.refusal) return fail(limited.refusal);
    if (!credential || credential.kind === 'none') return fail(requiresAuthentication(operation.documentationUrl));
    if (credential.kind !== route.auth) {
      // GitHub reads anything but a JWT on an App endpoint as a JWT that cannot be decoded.
      if (route.auth === 'app') return fail(new GitHubApiError(401, 'A JSON web token could not be decoded'));
      return fail(notAccessibleByIntegration(operation.documentationUrl));
    }
    if (check.problems.length > 0) {
      return check.inPath
        ? fail(notFound(operation.documentationUrl))
        : fail(new GitHubApiError(422, `Invalid request.\n\n${check.problems.join('\n')}`, operation.documentationUrl));
    }

    let response: DoubleResponse;
    try {
      response = await invoke(route, { request, operation, params: check.params, body, credential });
    } catch (err) {
      if (!(err instanceof GitHubApiError)) throw err;
      response = { status: err.status, json: err.body() };
    }
    if (response.text === undefined) {
      const contentType = response.json === undefined ? '' : 'application/json';
      const checked = validator.checkResponse(operation, response.status, contentType, response.json);
      if (checked.problems.length > 0) {
        record({ kind: 'invalid-response', endpoint, operationId: operation.operationId, problems: checked.problems });
        return respond({
          status: 500,
          json: { message: `GitHub double bug: its ${response.status} response breaks GitHub's REST description`, errors: [...checked.problems] },
        });
      }
    }
    return respond(response);
  }

  async function serve(request: DoubleRequest, remote: string): Promise<DoubleResponse> {
    const path = request.url.pathname;
    const manifestFlow = await manifests.serve(request);
    if (manifestFlow) return manifestFlow;
    if (path === restBase || path.startsWith(`${restBase}/`)) return serveApi(request, remote);
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
    app: credentialsOf(mainApp),
    payloads,
    dispatches,
    deliveries: sender.deliveries,
    schemaErrors,
    takeSchemaErrors: () => schemaErrors.splice(0, schemaErrors.length),
    addUser: (input) => state.addUser(input),
    addRepository: (input) => state.addRepository(input),
    setFile(repository, path, content) {
      const repo = state.repository(repository);
      if (content === undefined) repo.files.delete(path);
      else repo.files.set(path, content);
    },
    addInstallation: ({ app, ...input }) => state.addInstallation(appOf(app), input),
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

/** Calls a route with its own kind of credential (the caller has checked the kinds match). */
async function invoke(route: ApiRoute, context: RouteContext): Promise<DoubleResponse> {
  const { credential } = context;
  if (route.auth === 'app' && credential.kind === 'app') return route.handle({ ...context, credential });
  if (route.auth === 'installation' && credential.kind === 'installation') return route.handle({ ...context, credential });
  if (route.auth === 'user' && credential.kind === 'user') return route.handle({ ...context, credential });
  throw notAccessibleByIntegration(context.operation.documentationUrl);
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
