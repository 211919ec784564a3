/**
 * The double's HTTP control API under `/_double`: what a test, a demo or someone rehearsing a
 * workflow locally uses to shape the double's world from any language — users, organisations with
 * roles, repositories and their files, installations, the next OAuth sign-in, workflow runs — and
 * to read back what GitHub accepted (`repository_dispatch` calls) or to lower the secondary rate
 * budgets. docs/github-double.md describes each call with an example.
 *
 * It answers loopback clients only: the double may listen on every interface (`ZEKT_HOST`), but
 * only the machine it runs on may reshape it. It exists only where the double runs — when a real
 * GitHub is configured there is no double, and no control API. Bodies are JSON; a bad one is a 400
 * naming the field, an unknown entity 404, a conflict with the state 409, and nothing changes.
 */
import type { DoubleRequest, DoubleResponse } from './http-exchange.ts';
import { header } from './http-exchange.ts';
import type { RecordedDispatch } from './installation-routes.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import { FileNotFoundError, InvalidPathError, type CommitFileInput, type CommitResult } from './repository-commits.ts';
import { InvalidRateBudgetError, type SecondaryRateBudget, type SecondaryRateLimiter } from './secondary-rate-limit.ts';
import { StateConflictError, UnknownEntityError, type AddInstallationInput, type App, type GitHubState, type Installation, type Permissions } from './state.ts';
import { WebhookNotConfiguredError } from './webhook-sender.ts';
import {
  IdTokenRequestRefusedError,
  RunStateError,
  UnknownRunError,
  workflowRunConclusions,
  type RunAttemptHandle,
  type WorkflowRuns,
} from './workflow-runs.ts';
import type { WorkflowRunConclusion } from './payload-builders.ts';

export const controlBase = '/_double';

/** A body or query that is not what the call takes. → 400 */
export class ControlInputError extends Error {
  override name = 'ControlInputError';
}

export interface ControlApiDeps {
  readonly state: GitHubState;
  readonly mainApp: () => App;
  readonly runs: WorkflowRuns;
  readonly commitFile: (input: CommitFileInput) => Promise<CommitResult>;
  readonly installApp: (input: AddInstallationInput) => Promise<Installation>;
  readonly addRepository: (input: { fullName: string; private?: boolean; defaultBranch?: string }) => Promise<{ id: number; full_name: string; default_branch: string }>;
  readonly signInAs: (login: string) => void;
  readonly dispatches: readonly RecordedDispatch[];
  readonly secondaryLimiter: SecondaryRateLimiter;
}

// GitHub's rules: logins are letters, digits and single inner hyphens, at most 39 characters;
// repository names letters, digits, `.`, `-` and `_`, at most 100.
const loginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const repositoryNamePattern = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
const budgetKeys = ['contentCreatingPerMinute', 'contentCreatingPerHour', 'pointsPerMinute'] as const;

export function createControlApi(deps: ControlApiDeps): (request: DoubleRequest, remote: string) => Promise<DoubleResponse> {
  const { state } = deps;

  async function route(request: DoubleRequest): Promise<DoubleResponse> {
    const path = request.url.pathname.slice(controlBase.length) || '/';
    const method = request.method;
    const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));

    if (method === 'GET' && segments[0] === 'actions') {
      // /actions/runs/{id}/attempts/{n}/id-token — the run's ACTIONS_ID_TOKEN_REQUEST_URL.
      const [, runs, id, attempts, n, leaf] = segments;
      if (runs === 'runs' && attempts === 'attempts' && leaf === 'id-token' && segments.length === 6) {
        const bearer = /^bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '')?.[1];
        const audience = request.url.searchParams.get('audience') ?? undefined;
        const value = await deps.runs.idToken(wholeNumber(id, 'run id'), wholeNumber(n, 'attempt'), bearer, audience);
        return { status: 200, json: { value } };
      }
    }
    if (method === 'GET' && path === '/') return { status: 200, json: { calls: callList } };
    if (method === 'POST' && path === '/users') return createUser(bodyOf(request));
    if (method === 'POST' && path === '/orgs') return createOrganization(bodyOf(request));
    if (method === 'POST' && path === '/repos') return createRepository(bodyOf(request));
    if (method === 'POST' && path === '/installations') return createInstallation(bodyOf(request));
    if (method === 'POST' && path === '/sign-in-as') {
      const body = bodyOf(request);
      const login = text(body, 'login');
      deps.signInAs(state.user(login).login);
      return { status: 200, json: { login: state.user(login).login } };
    }
    if (method === 'GET' && path === '/dispatches') return listDispatches(request.url.searchParams.get('repository'));
    if (path === '/rate-limits' && (method === 'GET' || method === 'PUT')) {
      return rateLimits(method === 'PUT' ? bodyOf(request) : undefined);
    }
    if (segments[0] === 'repos' && segments.length >= 4) {
      const repository = state.repository(`${segments[1]}/${segments[2]}`);
      const full = `${repository.owner.login}/${repository.name}`;
      if (segments[3] === 'contents' && segments.length >= 5 && (method === 'PUT' || method === 'DELETE')) {
        const filePath = segments.slice(4).join('/');
        const body = method === 'PUT' ? bodyOf(request) : bodyOf(request, true);
        const content = method === 'PUT' ? text(body, 'content', { empty: true }) : undefined;
        requireWebhookUrl(full);
        const result = await deps.commitFile({
          repository: full,
          path: filePath,
          content,
          ...optionalText(body, 'message'),
          ...optionalLogin(body, 'author'),
        });
        return { status: 200, json: { commit: { sha: result.sha, before: result.before }, change: result.change, pushDelivered: result.delivery !== undefined } };
      }
      if (segments[3] === 'runs' && method === 'POST') {
        if (segments.length === 4) {
          const body = bodyOf(request);
          requireWebhookUrl(full);
          const handle = await deps.runs.start({
            repository: full,
            workflow: workflowFile(text(body, 'workflow')),
            ...optionalText(body, 'name'),
            ...optionalText(body, 'event'),
            ...optionalText(body, 'displayTitle'),
            ...optionalText(body, 'headBranch'),
            ...headSha(body),
            ...optionalLogin(body, 'actor'),
          });
          return { status: 201, json: handleJson(handle) };
        }
        const runId = wholeNumber(segments[4], 'run id');
        if (segments.length === 6 && segments[5] === 'complete') {
          const body = bodyOf(request);
          const conclusion = text(body, 'conclusion');
          if (!(workflowRunConclusions as readonly string[]).includes(conclusion)) {
            throw new ControlInputError(`conclusion must be one of ${workflowRunConclusions.join(', ')}`);
          }
          requireWebhookUrl(full);
          const run = await deps.runs.complete(full, runId, conclusion as WorkflowRunConclusion);
          return { status: 200, json: { id: run.id, attempt: run.attempts.length, conclusion } };
        }
        if (segments.length === 6 && segments[5] === 'rerun') {
          bodyOf(request, true);
          requireWebhookUrl(full);
          return { status: 201, json: handleJson(await deps.runs.rerun(full, runId)) };
        }
      }
    }
    return { status: 404, json: { error: `no control call ${method} ${controlBase}${path === '/' ? '' : path} (GET ${controlBase} lists them)` } };
  }

  function createUser(body: JsonObject): DoubleResponse {
    const login = loginOf(body, 'login');
    const user = state.addUser({ login, ...optionalText(body, 'name'), ...optionalText(body, 'email') });
    return { status: 201, json: { id: user.id, login: user.login } };
  }

  function createOrganization(body: JsonObject): DoubleResponse {
    const login = loginOf(body, 'login');
    const admins = logins(body, 'admins');
    const members = logins(body, 'members');
    const unknown = [...admins, ...members].filter((l) => !state.users.has(l.toLowerCase()));
    if (unknown.length > 0) throw new ControlInputError(`unknown users (create them with POST ${controlBase}/users first): ${unknown.join(', ')}`);
    const both = admins.filter((a) => members.some((m) => m.toLowerCase() === a.toLowerCase()));
    if (both.length > 0) throw new ControlInputError(`a user is either an admin or a member: ${both.join(', ')}`);
    const org = state.addOrganization({ login, admins, members });
    return { status: 201, json: { id: org.id, login: org.login } };
  }

  async function createRepository(body: JsonObject): Promise<DoubleResponse> {
    const owner = text(body, 'owner');
    const name = text(body, 'name');
    if (!repositoryNamePattern.test(name)) throw new ControlInputError(`name "${name}" is not a repository name`);
    if (!state.accounts.has(owner.toLowerCase())) throw new ControlInputError(`unknown owner ${owner}: create the user or organisation first`);
    if (typeof body.private !== 'undefined' && typeof body.private !== 'boolean') throw new ControlInputError('private must be true or false');
    const defaultBranch = optionalText(body, 'defaultBranch').defaultBranch;
    if (defaultBranch !== undefined && !/^[A-Za-z0-9._/-]{1,100}$/.test(defaultBranch)) throw new ControlInputError('defaultBranch is not a branch name');
    const ownerLogin = (state.accounts.get(owner.toLowerCase()) as { login: string }).login;
    const all = [...state.installations.values()].some((i) => i.app.id === deps.mainApp().id && i.account.login === ownerLogin && i.repositorySelection === 'all');
    if (all) requireWebhookUrl();
    const created = await deps.addRepository({
      fullName: `${ownerLogin}/${name}`,
      ...(typeof body.private === 'boolean' ? { private: body.private } : {}),
      ...(defaultBranch !== undefined ? { defaultBranch } : {}),
    });
    return { status: 201, json: created };
  }

  async function createInstallation(body: JsonObject): Promise<DoubleResponse> {
    const accountLogin = text(body, 'account');
    const account = state.accounts.get(accountLogin.toLowerCase());
    if (!account) throw new ControlInputError(`unknown account ${accountLogin}: create the user or organisation first`);
    const installer = state.users.get(text(body, 'installer').toLowerCase());
    if (!installer) throw new ControlInputError(`unknown installer ${String(body.installer)}`);
    // Only the owner installs on a personal account; on an organisation, one of its members.
    if (account.type === 'User' ? installer.id !== account.id : !state.roleIn(account.login, installer)) {
      throw new ControlInputError(`${installer.login} cannot install on ${account.login}: ${account.type === 'User' ? 'only its owner can' : 'not a member'}`);
    }
    const repositories = body.repositories;
    let input: AddInstallationInput;
    if (repositories === 'all') input = { account: account.login, repositorySelection: 'all', installer: installer.login };
    else if (Array.isArray(repositories) && repositories.length > 0 && repositories.every((r) => typeof r === 'string' && repositoryNamePattern.test(r))) {
      input = { account: account.login, repositorySelection: 'selected', repositories: repositories as string[], installer: installer.login };
    } else throw new ControlInputError('repositories must be "all" or a non-empty list of repository names');
    const permissions = body.permissions;
    if (permissions !== undefined) {
      const ok = isJsonObject(permissions) && Object.values(permissions).every((v) => v === 'read' || v === 'write' || v === 'admin');
      if (!ok) throw new ControlInputError('permissions must map permission names to read, write or admin');
      input = { ...input, permissions: permissions as Permissions };
    }
    const events = optionalStrings(body, 'events');
    const singleFilePaths = optionalStrings(body, 'singleFilePaths');
    input = { ...input, ...(events ? { events } : {}), ...(singleFilePaths ? { singleFilePaths } : {}) };
    requireWebhookUrl();
    const installation = await deps.installApp(input);
    return { status: 201, json: { id: installation.id } };
  }

  function listDispatches(repository: string | null): DoubleResponse {
    if (repository !== null && !/^[^/\s]+\/[^/\s]+$/.test(repository)) throw new ControlInputError('repository must be owner/name');
    const wanted = repository?.toLowerCase();
    return {
      status: 200,
      json: deps.dispatches
        .filter((d) => wanted === undefined || d.repository.toLowerCase() === wanted)
        .map((d) => ({
          repository: d.repository,
          repositoryId: d.repositoryId,
          eventType: d.eventType,
          clientPayload: d.clientPayload ?? null,
          installationId: d.installationId,
          receivedAt: d.receivedAt,
        })),
    };
  }

  function rateLimits(body: JsonObject | undefined): DoubleResponse {
    let installationId: number | undefined;
    if (body !== undefined) {
      for (const key of Object.keys(body)) {
        if (key !== 'installationId' && !(budgetKeys as readonly string[]).includes(key)) throw new ControlInputError(`unknown budget ${key} (${budgetKeys.join(', ')}, installationId)`);
      }
      if (body.installationId !== undefined) {
        installationId = wholeNumber(String(body.installationId), 'installationId');
        state.installation(installationId);
      }
      const change: Partial<Record<keyof SecondaryRateBudget, number>> = {};
      for (const key of budgetKeys) {
        if (body[key] !== undefined) change[key] = typeof body[key] === 'number' ? body[key] : NaN;
      }
      return { status: 200, json: { ...deps.secondaryLimiter.setBudget(change, installationId) } };
    }
    return { status: 200, json: { ...deps.secondaryLimiter.budget() } };
  }

  /** GitHub would have nowhere to send the call's webhook: refuse before anything changes. */
  function requireWebhookUrl(repository?: string): void {
    const app = deps.mainApp();
    if (app.webhookUrl) return;
    if (repository !== undefined && !state.installationFor(app, state.repository(repository))) return;
    throw new WebhookNotConfiguredError(app.id);
  }

  return async (request, remote) => {
    if (!isLoopback(remote)) return { status: 403, json: { error: 'the control API answers loopback clients only' } };
    try {
      return await route(request);
    } catch (err) {
      return failure(err);
    }
  };
}

const statuses: [new (...args: never[]) => Error, number][] = [
  [ControlInputError, 400],
  [InvalidPathError, 400],
  [InvalidRateBudgetError, 400],
  [IdTokenRequestRefusedError, 401],
  [UnknownEntityError, 404],
  [UnknownRunError, 404],
  [FileNotFoundError, 404],
  [StateConflictError, 409],
  [RunStateError, 409],
  [WebhookNotConfiguredError, 409],
];

function failure(err: unknown): DoubleResponse {
  for (const [type, status] of statuses) {
    if (err instanceof type) return { status, json: { error: err.message } };
  }
  throw err;
}

const callList = [
  'POST /_double/users {login, name?, email?}',
  'POST /_double/orgs {login, admins?: [login], members?: [login]}',
  'POST /_double/repos {owner, name, private?, defaultBranch?}',
  'PUT /_double/repos/{owner}/{repo}/contents/{path} {content, message?, author?}',
  'DELETE /_double/repos/{owner}/{repo}/contents/{path} {message?, author?}',
  'POST /_double/installations {account, repositories: [name] | "all", installer, permissions?, events?, singleFilePaths?}',
  'POST /_double/sign-in-as {login}',
  'POST /_double/repos/{owner}/{repo}/runs {workflow, name?, event?, displayTitle?, headBranch?, headSha?, actor?}',
  'POST /_double/repos/{owner}/{repo}/runs/{id}/complete {conclusion}',
  'POST /_double/repos/{owner}/{repo}/runs/{id}/rerun',
  'GET /_double/dispatches?repository=owner/repo',
  'GET /_double/rate-limits',
  'PUT /_double/rate-limits {contentCreatingPerMinute?, contentCreatingPerHour?, pointsPerMinute?, installationId?}',
  'GET <idTokenRequestUrl>&audience=… (Authorization: Bearer <idTokenRequestToken>)',
];

function isLoopback(remote: string): boolean {
  return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.');
}

function bodyOf(request: DoubleRequest, optional = false): JsonObject {
  if (request.body.length === 0) {
    if (optional) return {};
    throw new ControlInputError('the body must be a JSON object');
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(request.body.toString('utf8')) as Json;
  } catch {
    throw new ControlInputError('the body is not JSON');
  }
  if (!isJsonObject(parsed)) throw new ControlInputError('the body must be a JSON object');
  return parsed;
}

function text(body: JsonObject, key: string, options: { empty?: boolean } = {}): string {
  const value = body[key];
  if (typeof value !== 'string' || (!options.empty && value.trim() === '')) throw new ControlInputError(`${key} must be a${options.empty ? '' : ' non-empty'} string`);
  return value;
}

function optionalText<K extends string>(body: JsonObject, key: K): { [P in K]?: string } {
  if (body[key] === undefined || body[key] === null) return {};
  return { [key]: text(body, key) } as { [P in K]?: string };
}

function optionalLogin<K extends string>(body: JsonObject, key: K): { [P in K]?: string } {
  const value = optionalText(body, key);
  if (value[key] !== undefined && !loginPattern.test(value[key] as string)) throw new ControlInputError(`${key} "${value[key]}" is not a GitHub login`);
  return value;
}

function loginOf(body: JsonObject, key: string): string {
  const login = text(body, key);
  if (!loginPattern.test(login)) throw new ControlInputError(`${key} "${login}" is not a GitHub login (letters, digits and single hyphens, at most 39)`);
  return login;
}

function logins(body: JsonObject, key: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && loginPattern.test(v))) throw new ControlInputError(`${key} must be a list of logins`);
  return value as string[];
}

function optionalStrings(body: JsonObject, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new ControlInputError(`${key} must be a list of strings`);
  return value as string[];
}

function headSha(body: JsonObject): { headSha?: string } {
  const value = optionalText(body, 'headSha').headSha;
  if (value === undefined) return {};
  if (!/^[0-9a-f]{40}$/.test(value)) throw new ControlInputError('headSha must be 40 lowercase hex digits');
  return { headSha: value };
}

function workflowFile(workflow: string): string {
  const path = workflow.replace(/^\/+/, '');
  const file = path.split('/').at(-1) ?? '';
  if (!/\.ya?ml$/.test(file) || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ControlInputError(`workflow must be a workflow file (release.yml or .github/workflows/release.yml), not "${workflow}"`);
  }
  return path;
}

function wholeNumber(raw: string | undefined, what: string): number {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) throw new ControlInputError(`${what} must be a whole number`);
  return Number(raw);
}

function handleJson(handle: RunAttemptHandle): JsonObject {
  return { id: handle.id, attempt: handle.attempt, idTokenRequestUrl: handle.idTokenRequestUrl, idTokenRequestToken: handle.idTokenRequestToken };
}
