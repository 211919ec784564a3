/**
 * Webhook payloads made from GitHub's real examples (`@octokit/webhooks-examples`), never from
 * invented shapes: a builder takes the newest example of the event and action, points every URL at
 * the double, and replaces the fields that name things (repository, accounts, installation, run and
 * job ids, status, conclusion) with the double's state. App deliveries carry `installation:
 * { id, node_id }`, as GitHub adds it to every event it sends to an App. The sender checks each
 * payload against GitHub's webhook schemas before it leaves, so a builder that drifts fails loudly.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { cloneJson, isJsonObject, type Json, type JsonObject } from './json.ts';
import type { Representations, Urls } from './representations.ts';
import type { Account, App, GitHubState, Installation, Repository } from './state.ts';

const require = createRequire(import.meta.url);

interface ExampleDefinition {
  readonly name: string;
  readonly examples: readonly JsonObject[];
}

const definitions = require('@octokit/webhooks-examples') as readonly ExampleDefinition[];

/** A payload ready for `sendWebhook`. */
export interface WebhookEvent {
  readonly event: string;
  readonly payload: JsonObject;
}

export type WorkflowRunConclusion =
  | 'success'
  | 'failure'
  | 'neutral'
  | 'cancelled'
  | 'timed_out'
  | 'action_required'
  | 'stale'
  | 'skipped'
  | 'startup_failure';

export interface WorkflowRunInput {
  readonly action: 'requested' | 'in_progress' | 'completed';
  /** `owner/name` of the repository the run belongs to. */
  readonly repository: string;
  readonly runId: number;
  readonly runNumber?: number;
  readonly runAttempt?: number;
  /** `success` by default for `completed`; always `null` otherwise. */
  readonly conclusion?: WorkflowRunConclusion;
  /** Workflow name; `CI` by default. */
  readonly workflowName?: string;
  /** Workflow file; `.github/workflows/ci.yml` by default. */
  readonly workflowPath?: string;
  readonly workflowId?: number;
  /** The run's title (the workflow's `run-name`); the workflow name by default. */
  readonly displayTitle?: string;
  /** The repository's default branch by default. */
  readonly headBranch?: string;
  readonly headSha?: string;
  /** The event that started the run; `push` by default. */
  readonly event?: string;
  /** Login of the user who triggered the run; the repository owner by default. */
  readonly sender?: string;
  /** The installation the delivery belongs to; the one of the main App that reaches the repository by default. */
  readonly installationId?: number;
}

export interface WorkflowJobInput {
  readonly action: 'queued' | 'in_progress' | 'completed' | 'waiting';
  readonly repository: string;
  readonly runId: number;
  readonly jobId: number;
  readonly runAttempt?: number;
  readonly jobName?: string;
  readonly workflowName?: string;
  readonly conclusion?: WorkflowRunConclusion;
  readonly headBranch?: string;
  readonly headSha?: string;
  readonly sender?: string;
  readonly installationId?: number;
}

export interface PayloadBuilders {
  workflowRun(input: WorkflowRunInput): WebhookEvent;
  workflowJob(input: WorkflowJobInput): WebhookEvent;
  installation(input: { action: 'created' | 'deleted'; installationId: number; sender?: string }): WebhookEvent;
  installationRepositories(input: {
    action: 'added' | 'removed';
    installationId: number;
    /** Repository names (in the installation's account) added or removed. */
    repositories: readonly string[];
    sender?: string;
  }): WebhookEvent;
  /** The ping GitHub sends to an App's webhook URL when the App is registered or its hook changes. */
  ping(input?: { app?: App }): WebhookEvent;
}

/** Thrown when the examples package has no example for an event and action. */
export class MissingExampleError extends Error {
  override name = 'MissingExampleError';
  constructor(
    readonly event: string,
    readonly action: string | undefined,
  ) {
    super(`@octokit/webhooks-examples has no ${event}${action ? `.${action}` : ''} example`);
  }
}

export function createPayloadBuilders(options: {
  state: GitHubState;
  urls: Urls;
  representations: Representations;
  now: () => number;
  mainApp: () => App;
}): PayloadBuilders {
  const { state, urls, representations: rep, now } = options;
  const host = new URL(urls.web).host;
  const timestamp = () => new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');

  /**
   * Points every GitHub URL of an example at the double, renaming each repository (and owner) the
   * URLs name into `to`. Examples are not always self-consistent (a job of one repository with
   * URLs of another), so the names are read from the URLs themselves.
   */
  function rebase(value: Json, to: { owner: string; full?: string }): Json {
    const { fulls, owners } = namesIn(value);
    const pairs: [RegExp, string][] = [];
    if (to.full) {
      for (const full of fulls) {
        pairs.push(
          [new RegExp(`https://api\\.github\\.com/repos/${escape(full)}(?=$|[/?{#])`, 'g'), `${urls.api}/repos/${to.full}`],
          [new RegExp(`https://github\\.com/${escape(full)}(?=$|[/?{#.])`, 'g'), `${urls.web}/${to.full}`],
          [new RegExp(`git://github\\.com/${escape(full)}\\.git`, 'g'), `git://${host}/${to.full}.git`],
          [new RegExp(`git@github\\.com:${escape(full)}\\.git`, 'g'), `git@${host}:${to.full}.git`],
        );
      }
    }
    for (const owner of owners) {
      pairs.push(
        [new RegExp(`https://api\\.github\\.com/(users|orgs)/${escape(owner)}(?=$|[/?{#])`, 'g'), `${urls.api}/$1/${to.owner}`],
        [new RegExp(`https://github\\.com/${escape(owner)}(?=$|[/?{#])`, 'g'), `${urls.web}/${to.owner}`],
      );
    }
    pairs.push([/https:\/\/api\.github\.com/g, urls.api], [/https:\/\/github\.com/g, urls.web]);
    return mapStrings(value, (s) => pairs.reduce((acc, [re, replacement]) => acc.replace(re, replacement), s));
  }

  function user(example: Json | undefined, account: Account): JsonObject {
    return { ...(isJsonObject(example) ? example : {}), ...rep.simpleUser(account) };
  }

  /** The example's repository object, renamed to `repository`. */
  function repositoryFrom(example: Json | undefined, repository: Repository): JsonObject {
    const ex = isJsonObject(example) ? example : {};
    const full = `${repository.owner.login}/${repository.name}`;
    const rebased = rebase(ex, { owner: repository.owner.login, full }) as JsonObject;
    const base = rep.repository(repository);
    const out: JsonObject = { ...rebased };
    // Only the fields the example has: webhook repositories come in several sizes.
    for (const key of Object.keys(rebased)) if (key in base && key !== 'owner') out[key] = base[key] as Json;
    if ('owner' in rebased) out.owner = user(rebased.owner, repository.owner);
    return out;
  }

  function installationOf(repository: Repository, installationId: number | undefined): Installation {
    if (installationId !== undefined) return state.installation(installationId);
    const found = state.installationFor(options.mainApp(), repository);
    if (!found) throw new Error(`no installation of the main App reaches ${repository.owner.login}/${repository.name}; pass installationId`);
    return found;
  }

  function senderFor(login: string | undefined, fallback: Account): Account {
    return login ? state.account(login, 'User') : fallback;
  }

  function organizationOf(example: JsonObject, account: Account): JsonObject | undefined {
    if (account.type !== 'Organization') return undefined;
    // Some examples come from user-owned repositories; their organisation comes from one that has it.
    const ex = isJsonObject(example.organization) ? example.organization : referenceOrganization();
    return { ...(rebase(ex, { owner: account.login }) as JsonObject), login: account.login, id: account.id, node_id: account.nodeId };
  }

  /** Sets or removes `organization` (GitHub includes it for organisation-owned repositories only). */
  function withOrganization(payload: JsonObject, example: JsonObject, account: Account): void {
    const org = organizationOf(example, account);
    if (org) payload.organization = org;
    else delete payload.organization;
  }

  return {
    workflowRun(input) {
      const example = exampleFor('workflow_run', input.action === 'in_progress' ? 'requested' : input.action);
      const repository = state.repository(input.repository);
      const installation = installationOf(repository, input.installationId);
      const sender = senderFor(input.sender, repository.owner);
      const run = isJsonObject(example.workflow_run) ? example.workflow_run : {};
      const full = `${repository.owner.login}/${repository.name}`;
      const workflowPath = input.workflowPath ?? '.github/workflows/ci.yml';
      const workflowId = input.workflowId ?? stableId(`${full}:${workflowPath}`);
      const headBranch = input.headBranch ?? repository.defaultBranch;
      const headSha = input.headSha ?? sha1(`${full}:${input.runId}`);
      const status = input.action === 'requested' ? 'queued' : input.action;
      const at = timestamp();
      const renamed = mapStrings(rebase(run, { owner: repository.owner.login, full }), (s) =>
        s.replaceAll(`/runs/${String(run.id)}`, `/runs/${input.runId}`).replaceAll(`/workflows/${String(run.workflow_id)}`, `/workflows/${workflowId}`),
      ) as JsonObject;
      const workflowRun: JsonObject = {
        ...renamed,
        id: input.runId,
        node_id: nodeIdFor('WFR', input.runId),
        name: input.workflowName ?? 'CI',
        display_title: input.displayTitle ?? input.workflowName ?? 'CI',
        path: workflowPath,
        run_number: input.runNumber ?? 1,
        run_attempt: input.runAttempt ?? 1,
        event: input.event ?? 'push',
        status,
        conclusion: input.action === 'completed' ? (input.conclusion ?? 'success') : null,
        workflow_id: workflowId,
        head_branch: headBranch,
        head_sha: headSha,
        head_commit: { ...(isJsonObject(renamed.head_commit) ? renamed.head_commit : {}), id: headSha, timestamp: at },
        actor: user(run.actor ?? run.triggering_actor ?? example.sender, sender),
        triggering_actor: user(run.triggering_actor ?? run.actor ?? example.sender, sender),
        repository: repositoryFrom(run.repository, repository),
        head_repository: repositoryFrom(run.head_repository, repository),
        pull_requests: [],
        created_at: at,
        updated_at: at,
        run_started_at: at,
        previous_attempt_url: (input.runAttempt ?? 1) > 1 ? `${urls.api}/repos/${full}/actions/runs/${input.runId}/attempts/${(input.runAttempt ?? 1) - 1}` : null,
      };
      const exWorkflow = isJsonObject(example.workflow) ? example.workflow : {};
      const workflow: JsonObject = {
        ...(mapStrings(rebase(exWorkflow, { owner: repository.owner.login, full }), (s) =>
          s.replaceAll(String(exWorkflow.id), String(workflowId)).replace(/\.github\/workflows\/[^/]+\.ya?ml/, workflowPath),
        ) as JsonObject),
        id: workflowId,
        node_id: nodeIdFor('W', workflowId),
        name: input.workflowName ?? 'CI',
        path: workflowPath,
      };
      const payload: JsonObject = {
        ...cloneJson(example),
        action: input.action,
        workflow_run: workflowRun,
        workflow,
        repository: repositoryFrom(example.repository, repository),
        sender: user(example.sender, sender),
        installation: { id: installation.id, node_id: nodeIdFor('I', installation.id) },
      };
      withOrganization(payload, example, repository.owner);
      return { event: 'workflow_run', payload };
    },

    workflowJob(input) {
      const example = exampleFor('workflow_job', input.action);
      const repository = state.repository(input.repository);
      const installation = installationOf(repository, input.installationId);
      const sender = senderFor(input.sender, repository.owner);
      const job = isJsonObject(example.workflow_job) ? example.workflow_job : {};
      const full = `${repository.owner.login}/${repository.name}`;
      const headSha = input.headSha ?? sha1(`${full}:${input.runId}`);
      const at = timestamp();
      const renamed = mapStrings(rebase(job, { owner: repository.owner.login, full }), (s) =>
        s.replaceAll(`/runs/${String(job.run_id)}`, `/runs/${input.runId}`).replaceAll(`/jobs/${String(job.id)}`, `/jobs/${input.jobId}`),
      ) as JsonObject;
      const completed = input.action === 'completed';
      const workflowJob: JsonObject = {
        ...renamed,
        id: input.jobId,
        run_id: input.runId,
        run_attempt: input.runAttempt ?? 1,
        node_id: nodeIdFor('CR', input.jobId),
        run_url: `${urls.api}/repos/${full}/actions/runs/${input.runId}`,
        url: `${urls.api}/repos/${full}/actions/jobs/${input.jobId}`,
        html_url: `${urls.web}/${full}/actions/runs/${input.runId}/job/${input.jobId}`,
        head_sha: headSha,
        head_branch: input.headBranch ?? repository.defaultBranch,
        status: input.action,
        conclusion: completed ? (input.conclusion ?? 'success') : null,
        name: input.jobName ?? 'build',
        workflow_name: input.workflowName ?? 'CI',
        created_at: at,
        started_at: at,
        completed_at: completed ? at : null,
      };
      const payload: JsonObject = {
        ...cloneJson(example),
        action: input.action,
        workflow_job: workflowJob,
        repository: repositoryFrom(example.repository, repository),
        sender: user(example.sender, sender),
        installation: { id: installation.id, node_id: nodeIdFor('I', installation.id) },
      };
      if ('deployment' in payload) delete payload.deployment;
      withOrganization(payload, example, repository.owner);
      return { event: 'workflow_job', payload };
    },

    installation(input) {
      const example = exampleFor('installation', input.action);
      const installation = state.installation(input.installationId);
      const sender = senderFor(input.sender, defaultSender(installation));
      const exInstallation = isJsonObject(example.installation) ? example.installation : {};
      const payload: JsonObject = {
        ...cloneJson(example),
        action: input.action,
        installation: {
          ...(rebase(exInstallation, { owner: installation.account.login }) as JsonObject),
          ...rep.installation(installation),
          account: user(exInstallation.account, installation.account),
        },
        repositories: state.installationRepositories(installation).map(liteRepository),
        requester: null,
        sender: user(example.sender, sender),
      };
      return { event: 'installation', payload };
    },

    installationRepositories(input) {
      const example = exampleFor('installation_repositories', input.action);
      const installation = state.installation(input.installationId);
      const sender = senderFor(input.sender, defaultSender(installation));
      const exInstallation = isJsonObject(example.installation) ? example.installation : {};
      const changed = input.repositories.map((name) => liteRepository(state.repository(`${installation.account.login}/${name}`)));
      const payload: JsonObject = {
        ...cloneJson(example),
        action: input.action,
        installation: {
          ...(rebase(exInstallation, { owner: installation.account.login }) as JsonObject),
          ...rep.installation(installation),
          account: user(exInstallation.account, installation.account),
        },
        repository_selection: installation.repositorySelection,
        repositories_added: input.action === 'added' ? changed : [],
        repositories_removed: input.action === 'removed' ? changed : [],
        requester: null,
        sender: user(example.sender, sender),
      };
      return { event: 'installation_repositories', payload };
    },

    ping(input = {}) {
      const app = input.app ?? options.mainApp();
      // The example of an App's ping is the one whose hook names an `app_id`.
      const example = definitionOf('ping').examples.find((e) => isJsonObject(e.hook) && 'app_id' in e.hook);
      if (!example) throw new MissingExampleError('ping', undefined);
      const hook = isJsonObject(example.hook) ? example.hook : {};
      const at = timestamp();
      const payload: JsonObject = {
        zen: example.zen ?? 'Keep it logically awesome.',
        hook_id: app.hookId,
        hook: {
          type: 'App',
          id: app.hookId,
          name: 'web',
          active: true,
          events: [...app.events],
          config: {
            ...(isJsonObject(hook.config) ? hook.config : {}),
            content_type: 'json',
            insecure_ssl: '0',
            url: app.webhookUrl ?? '',
          },
          updated_at: at,
          created_at: at,
          app_id: app.id,
          deliveries_url: `${urls.api}/app/hook/deliveries`,
        },
        sender: user(isJsonObject(example.sender) ? example.sender : undefined, app.owner),
      };
      return { event: 'ping', payload };
    },
  };

  function defaultSender(installation: Installation): Account {
    if (installation.account.type === 'User') return installation.account;
    const member = [...state.users.values()].find((u) => u.organizations.has(installation.account.login.toLowerCase()));
    return member ?? installation.account;
  }

  function liteRepository(repository: Repository): JsonObject {
    return {
      id: repository.id,
      node_id: repository.nodeId,
      name: repository.name,
      full_name: `${repository.owner.login}/${repository.name}`,
      private: repository.private,
    };
  }
}

/** The `organization` object of the newest `workflow_run` example, for examples without one. */
function referenceOrganization(): JsonObject {
  const example = definitionOf('workflow_run').examples.findLast((e) => isJsonObject(e.organization));
  if (!example || !isJsonObject(example.organization)) throw new MissingExampleError('workflow_run', 'organization');
  return cloneJson(example.organization);
}

function definitionOf(event: string): ExampleDefinition {
  const definition = definitions.find((d) => d.name === event);
  if (!definition) throw new MissingExampleError(event, undefined);
  return definition;
}

/** The newest example (examples are appended over time) of an event and action. */
function exampleFor(event: string, action: string): JsonObject {
  const example = definitionOf(event).examples.filter((e) => e.action === action).at(-1);
  if (!example) throw new MissingExampleError(event, action);
  return cloneJson(example);
}

/** The `owner/repo` names and owner logins that an example's GitHub URLs mention. */
function namesIn(value: Json): { fulls: string[]; owners: string[] } {
  const fulls = new Set<string>();
  const owners = new Set<string>();
  mapStrings(value, (s) => {
    for (const m of s.matchAll(/https:\/\/api\.github\.com\/repos\/([\w.-]+)\/([\w.-]+)/g)) fulls.add(`${m[1]}/${m[2]}`);
    for (const m of s.matchAll(/https:\/\/api\.github\.com\/(?:users|orgs)\/([\w.-]+)/g)) owners.add(m[1] as string);
    return s;
  });
  for (const full of fulls) owners.add(full.split('/')[0] as string);
  // Longest first, so `octo-org/octo-repo` is renamed before a shorter name it contains.
  const byLength = (a: string, b: string) => b.length - a.length;
  return { fulls: [...fulls].sort(byLength), owners: [...owners].sort(byLength) };
}

function mapStrings(value: Json, fn: (s: string) => string): Json {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** A positive id derived from a name, so repeated builds agree. */
function stableId(text: string): number {
  return parseInt(sha1(text).slice(0, 8), 16) % 90_000_000 + 10_000_000;
}

function nodeIdFor(kind: string, id: number): string {
  return Buffer.from(`0${kind}:${id}`).toString('base64');
}
