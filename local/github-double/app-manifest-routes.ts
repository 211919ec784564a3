/**
 * GitHub's App manifest flow, both halves
 * (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
 * the web side takes the `manifest` form field POSTed to `/settings/apps/new` (or
 * `/organizations/<org>/settings/apps/new`), registers the App and redirects to the manifest's
 * `redirect_url` with a one-time `code` (and the `state` it was given); the REST side,
 * `POST /app-manifests/{code}/conversions`, trades that code — once, within an hour, without any
 * credential — for the App's id, client id and secret, webhook secret and private key. The REST
 * call and its answer are checked against GitHub's description like every other.
 */
import { randomBytes } from 'node:crypto';
import type { DoubleRequest, DoubleResponse } from './http-exchange.ts';
import type { Json, JsonObject } from './json.ts';
import type { OpenApiValidator } from './openapi-validator.ts';
import type { Representations } from './representations.ts';
import type { App, GitHubState, Permissions } from './state.ts';
import type { AppOptions } from './start-github-double.ts';

/** GitHub: "the code expires after one hour". */
const codeLifetimeMs = 60 * 60 * 1000;

export interface AppManifestRoutesOptions {
  readonly state: GitHubState;
  readonly validator: OpenApiValidator;
  readonly representations: Representations;
  /** The REST base path, e.g. `/api/v3`. */
  readonly restBase: string;
  readonly now: () => number;
  /** Registers an App with freshly generated keys and secrets. */
  readonly registerApp: (options: AppOptions) => Promise<App>;
}

const text = (status: number, body: string): DoubleResponse => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: body });

interface ManifestFields {
  readonly name?: string;
  readonly url: string;
  readonly redirectUrl: string;
  readonly webhookUrl?: string;
  readonly callbackUrls: readonly string[];
  readonly permissions: Permissions;
  readonly events: readonly string[];
}

/** The manifest's fields the double keeps, or why it is refused. */
function readManifest(raw: string | null): ManifestFields | string {
  if (!raw) return 'the form has no manifest field';
  let manifest: JsonObject;
  try {
    manifest = JSON.parse(raw) as JsonObject;
  } catch {
    return 'the manifest is not JSON';
  }
  const isUrl = (v: Json | undefined): v is string => typeof v === 'string' && URL.canParse(v);
  if (!isUrl(manifest.url)) return 'the manifest needs url (the App homepage)';
  if (!isUrl(manifest.redirect_url)) return 'the manifest needs redirect_url';
  const hook = manifest.hook_attributes as JsonObject | undefined;
  if (hook !== undefined && !isUrl(hook.url)) return 'hook_attributes.url must be a URL';
  const callbacks = (manifest.callback_urls ?? []) as Json[];
  if (!Array.isArray(callbacks) || !callbacks.every(isUrl)) return 'callback_urls must be URLs';
  return {
    ...(typeof manifest.name === 'string' ? { name: manifest.name } : {}),
    url: manifest.url,
    redirectUrl: manifest.redirect_url,
    ...(hook ? { webhookUrl: hook.url as string } : {}),
    callbackUrls: callbacks as string[],
    permissions: (manifest.default_permissions ?? {}) as Permissions,
    events: (manifest.default_events ?? []) as string[],
  };
}

export function createAppManifestRoutes(options: AppManifestRoutesOptions) {
  const { state, validator, representations, now } = options;
  const codes = new Map<string, { app: App; expiresAt: number }>();

  async function register(request: DoubleRequest, org: string | undefined): Promise<DoubleResponse> {
    const form = new URLSearchParams(request.body.toString('utf8'));
    const fields = readManifest(form.get('manifest'));
    if (typeof fields === 'string') return text(422, `Invalid GitHub App manifest: ${fields}`);
    // The account the App is registered for: the organisation in the path, else the signed-in
    // user (the double's first user stands in for GitHub's session).
    const owner = org ? state.accounts.get(org.toLowerCase()) : [...state.users.values()][0];
    if (!owner || (org && owner.type !== 'Organization')) return text(404, org ? `No organization ${org}` : 'No user is signed in');
    const name = fields.name ?? 'GitHub App';
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    if ([...state.apps.values()].some((a) => a.slug === slug)) return text(422, `Name ${name} is already taken`);
    const app = await options.registerApp({
      slug,
      name,
      owner: owner.login,
      permissions: fields.permissions,
      events: fields.events,
      callbackUrls: fields.callbackUrls,
      ...(fields.webhookUrl ? { webhookUrl: fields.webhookUrl } : {}),
    });
    const code = randomBytes(20).toString('hex');
    codes.set(code, { app, expiresAt: now() + codeLifetimeMs });
    const redirect = new URL(fields.redirectUrl);
    redirect.searchParams.set('code', code);
    const given = request.url.searchParams.get('state');
    if (given) redirect.searchParams.set('state', given);
    return { status: 302, headers: { location: redirect.toString() }, text: '' };
  }

  function convert(request: DoubleRequest, path: string): DoubleResponse {
    const match = validator.match(request.method, path);
    if (match.kind !== 'operation') return { status: 404, json: { message: 'Not Found' } };
    const { operation } = match;
    const code = operation.pathParams.code ?? '';
    const entry = codes.get(code);
    codes.delete(code);
    if (!entry || entry.expiresAt <= now()) {
      return { status: 404, json: { message: 'Not Found', documentation_url: operation.documentationUrl } };
    }
    const { app } = entry;
    const json: JsonObject = {
      ...representations.integration(app),
      client_id: app.clientId,
      client_secret: app.clientSecret,
      webhook_secret: app.webhookSecret,
      pem: app.privateKey,
    };
    const checked = validator.checkResponse(operation, 201, 'application/json', json);
    if (checked.problems.length > 0) {
      return { status: 500, json: { message: "GitHub double bug: its 201 response breaks GitHub's REST description", errors: [...checked.problems] } };
    }
    return { status: 201, json };
  }

  return {
    /** Answers a request of the manifest flow; undefined for any other request. */
    async serve(request: DoubleRequest): Promise<DoubleResponse | undefined> {
      const path = request.url.pathname;
      if (request.method === 'POST' && path === '/settings/apps/new') return register(request, undefined);
      const org = /^\/organizations\/([^/]+)\/settings\/apps\/new$/.exec(path);
      if (request.method === 'POST' && org) return register(request, decodeURIComponent(org[1] as string));
      const rest = path.startsWith(`${options.restBase}/`) ? path.slice(options.restBase.length) : undefined;
      if (rest && /^\/app-manifests\/[^/]+\/conversions$/.test(rest)) return convert(request, rest);
      return undefined;
    },
  };
}
