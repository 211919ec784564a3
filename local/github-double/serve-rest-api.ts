/**
 * The REST half of the double: authenticate the credential, count it against the primary and
 * (for installations) the secondary rate limits, match the request to an operation of GitHub's
 * REST description, check it, call the route, and check the route's answer — every response
 * carries GitHub's common headers. Only `start-github-double.ts` touches `node:http`.
 */
import { randomUUID } from 'node:crypto';
import type { ApiRoute, ApiRoutes, Credential, RouteContext } from './api-route.ts';
import { looksLikeJwt, verifyAppJwt } from './app-jwt.ts';
import { GitHubApiError, badCredentials, notAccessibleByIntegration, notFound, requiresAuthentication } from './github-api-error.ts';
import { header, type DoubleRequest, type DoubleResponse } from './http-exchange.ts';
import type { InstallationTokens } from './installation-tokens.ts';
import type { Json } from './json.ts';
import type { OAuthWebFlow } from './oauth-web-flow.ts';
import type { OpenApiValidator } from './openapi-validator.ts';
import { unauthenticatedLimitPerHour, type RateLimitBucket, type RateLimiter } from './rate-limit.ts';
import type { SecondaryRateLimiter } from './secondary-rate-limit.ts';
import type { SchemaErrorRecord } from './github-double-types.ts';
import type { GitHubState } from './state.ts';

/** The REST API version the double speaks (https://docs.github.com/rest/about-the-rest-api/api-versions). */
export const supportedApiVersions = ['2022-11-28'] as const;
export const restBase = '/api/v3';

/**
 * Operations that create content, for the secondary limit of 80 a minute and 500 an hour. GitHub
 * does not list them; of what the double implements, a `repository_dispatch` is the one that does.
 */
const contentCreatingOperations = new Set(['repos/create-dispatch-event']);

export interface RestApiDeps {
  readonly state: GitHubState;
  readonly validator: OpenApiValidator;
  readonly routes: ApiRoutes;
  readonly tokens: InstallationTokens;
  readonly oauth: OAuthWebFlow;
  readonly rateLimiter: RateLimiter;
  readonly secondaryLimiter: SecondaryRateLimiter;
  /** Requests per hour per authenticated credential. */
  readonly limit: number;
  readonly now: () => number;
  readonly record: (error: SchemaErrorRecord) => void;
}

export function createRestApi(deps: RestApiDeps): (request: DoubleRequest, remote: string) => Promise<DoubleResponse> {
  const { state, validator, routes, tokens, oauth, rateLimiter, limit, now, record } = deps;

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
    if (credential.kind === 'installation') {
      const secondary = deps.secondaryLimiter.consume(
        credential.token.installation.id,
        request.method,
        contentCreatingOperations.has(operation.operationId),
        requestId,
      );
      if (secondary.refusal) {
        return respond({ status: secondary.refusal.status, headers: { 'retry-after': String(secondary.retryAfter) }, json: secondary.refusal.body() });
      }
    }
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

  return serveApi;
}

/** Calls a route with its own kind of credential (the caller has checked the kinds match). */
async function invoke(route: ApiRoute, context: RouteContext): Promise<DoubleResponse> {
  const { credential } = context;
  if (route.auth === 'app' && credential.kind === 'app') return route.handle({ ...context, credential });
  if (route.auth === 'installation' && credential.kind === 'installation') return route.handle({ ...context, credential });
  if (route.auth === 'user' && credential.kind === 'user') return route.handle({ ...context, credential });
  throw notAccessibleByIntegration(context.operation.documentationUrl);
}

