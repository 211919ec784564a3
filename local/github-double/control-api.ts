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
import {
  ControlInputError,
  bodyOf,
  headSha,
  loginOf,
  logins,
  optionalLogin,
  optionalStrings,
  optionalText,
  repositoryNamePattern,
  text,
  wholeNumber,
  workflowFile,
} from './control-input.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import { FileNotFoundError, InvalidPathError, type CommitFileInput, type CommitResult } from './repository-commits.ts';
import { InvalidRateBudgetError, type SecondaryRateBudget, type SecondaryRateLimiter } from './secondary-rate-limit.ts';
import { StateConflictError, UnknownEntityError, type AddInstallationInput, type App, type GitHubState, type Installation, type Permissions } from './state.ts';
import { WebhookNotConfiguredError, type WebhookDelivery } from './webhook-sender.ts';
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
export { ControlInputError } from './control-input.ts';

export interface ControlApiDeps {
  readonly state: GitHubState;
  readonly mainApp: () => App;
  readonly runs: WorkflowRuns;
  readonly commitFile: (input: CommitFileInput) => Promise<CommitResult>;
  readonly installApp: (input: AddInstallationInput) => Promise<Installation>;
  readonly addRepository: (input: { fullName: string; private?: boolean; defaultBranch?: string }) => Promise<{ id: number; full_name: string; default_branch: string }>;
  readonly signInAs: (login: string) => void;
  readonly dispatches: readonly RecordedDispatch[];
  readonly deliveries: readonly WebhookDelivery[];
  readonly secondaryLimiter: SecondaryRateLimiter;
  /** Adds repositories to (or removes them from) a `selected` installation and sends `installation_repositories`. */
  readonly changeRepositories: (installationId: number, change: { add: readonly string[]; remove: readonly string[] }) => Promise<Installation>;
  /** Uninstalls the App and sends `installation.deleted`. */
  readonly uninstall: (installationId: number) => Promise<void>;
}

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
    if (method === 'GET' && path === '/deliveries') return listDeliveries(request.url.searchParams.get('event'));
    if (segments[0] === 'installations' && segments.length >= 2) {
      const installation = state.installation(wholeNumber(segments[1], 'installation id'));
      if (installation.app.id !== deps.mainApp().id) throw new UnknownEntityError('installation', String(installation.id));
      if (method === 'DELETE' && segments.length === 2) {
        requireWebhookUrl();
        await deps.uninstall(installation.id);
        return { status: 204 };
      }
      if (method === 'POST' && segments.length === 3 && segments[2] === 'repositories') {
        const body = bodyOf(request);
        const add = optionalStrings(body, 'add') ?? [];
        const remove = optionalStrings(body, 'remove') ?? [];
        if (add.length + remove.length === 0) throw new ControlInputError('name repositories to add or remove');
        const bad = [...add, ...remove].filter((n) => !repositoryNamePattern.test(n));
        if (bad.length > 0) throw new ControlInputError(`not repository names: ${bad.join(', ')}`);
        if (installation.repositorySelection === 'all') throw new StateConflictError(`installation ${installation.id} is on all repositories of ${installation.account.login}`);
        const selected = new Set(state.installationRepositories(installation).map((r) => r.name.toLowerCase()));
        const absent = remove.filter((n) => !selected.has(n.toLowerCase()));
        if (absent.length > 0) throw new ControlInputError(`not in installation ${installation.id}: ${absent.join(', ')}`);
        requireWebhookUrl();
        const changed = await deps.changeRepositories(installation.id, { add, remove });
        return { status: 200, json: { id: changed.id, repositories: state.installationRepositories(changed).map((r) => `${r.owner.login}/${r.name}`) } };
      }
    }
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

  function listDeliveries(event: string | null): DoubleResponse {
    return {
      status: 200,
      json: deps.deliveries
        .filter((d) => event === null || d.event === event)
        .map((d) => ({
          id: d.id,
          guid: d.guid,
          event: d.event,
          action: d.action,
          installationId: d.installationId,
          repositoryId: d.repositoryId,
          deliveredAt: d.deliveredAt,
          redelivery: d.redelivery,
          status: d.status,
          statusCode: d.statusCode,
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
  'POST /_double/installations/{id}/repositories {add?: [name], remove?: [name]}',
  'DELETE /_double/installations/{id}',
  'GET /_double/dispatches?repository=owner/repo',
  'GET /_double/deliveries?event=name',
  'GET /_double/rate-limits',
  'PUT /_double/rate-limits {contentCreatingPerMinute?, contentCreatingPerHour?, pointsPerMinute?, installationId?}',
  'GET <idTokenRequestUrl>&audience=… (Authorization: Bearer <idTokenRequestToken>)',
];

function isLoopback(remote: string): boolean {
  return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.');
}

function handleJson(handle: RunAttemptHandle): JsonObject {
  return { id: handle.id, attempt: handle.attempt, idTokenRequestUrl: handle.idTokenRequestUrl, idTokenRequestToken: handle.idTokenRequestToken };
}
