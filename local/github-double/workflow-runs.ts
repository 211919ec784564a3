/**
 * Workflow runs of the double's repositories, driven by a test (or by someone rehearsing a
 * workflow locally) rather than by a runner: a run starts, its one job runs, it completes with a
 * conclusion, and it can be re-run as a new attempt under the same run id. Each step sends the
 * webhooks GitHub sends for it, in GitHub's order, to the main App when an installation of it
 * reaches the repository and subscribes to the event
 * (https://docs.github.com/actions/managing-workflow-runs-and-deployments/managing-workflow-runs/re-running-workflows-and-jobs):
 *
 * - start / re-run: `workflow_run.requested`, `workflow_job.queued`, `workflow_run.in_progress`,
 *   `workflow_job.in_progress`;
 * - complete: `workflow_job.completed`, then `workflow_run.completed`.
 *
 * While an attempt runs it has the stand-ins of `ACTIONS_ID_TOKEN_REQUEST_URL` and
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: a GET of that URL with `&audience=…` and the token as bearer
 * answers `{ value }`, an OIDC token whose claims are the run's (as `@actions/core`'s
 * `getIDToken()` asks for it). GitHub's request token lives as long as the job, so once the attempt
 * completes the URL refuses it.
 */
import { randomBytes } from 'node:crypto';
import type { OidcIssuer } from './oidc-issuer.ts';
import type { PayloadBuilders, WebhookEvent, WorkflowRunConclusion } from './payload-builders.ts';
import type { App, GitHubState, Installation, Repository } from './state.ts';
import type { WebhookDelivery } from './webhook-sender.ts';

export const workflowRunConclusions: readonly WorkflowRunConclusion[] = [
  'success', 'failure', 'neutral', 'cancelled', 'timed_out', 'action_required', 'stale', 'skipped', 'startup_failure',
];

export interface StartRunInput {
  /** `owner/name`. */
  readonly repository: string;
  /** The workflow file: a name in `.github/workflows/` (`release.yml`) or its path. */
  readonly workflow: string;
  /** The workflow's `name:`; GitHub shows the file's path when a workflow has none. */
  readonly name?: string;
  /** The event that triggered the run (`push` by default, `repository_dispatch` for a consumer's run). */
  readonly event?: string;
  /** `display_title` (the workflow's `run-name`); the workflow's name by default. */
  readonly displayTitle?: string;
  /** The repository's default branch by default. */
  readonly headBranch?: string;
  /** The branch's head commit by default. */
  readonly headSha?: string;
  /** Login of the user who triggered the run; the repository owner by default. */
  readonly actor?: string;
}

/** What a started attempt hands its job: the run, and its stand-ins for the Actions OIDC variables. */
export interface RunAttemptHandle {
  readonly id: number;
  readonly attempt: number;
  /** `ACTIONS_ID_TOKEN_REQUEST_URL`: append `&audience=…`. */
  readonly idTokenRequestUrl: string;
  /** `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: the bearer token for that URL. */
  readonly idTokenRequestToken: string;
}

export interface RunAttempt {
  readonly attempt: number;
  readonly jobId: number;
  status: 'in_progress' | 'completed';
  conclusion: WorkflowRunConclusion | null;
  readonly startedAt: string;
  readonly requestToken: string;
}

export interface WorkflowRun {
  readonly id: number;
  readonly repository: Repository;
  readonly workflowPath: string;
  readonly workflowName: string;
  readonly runNumber: number;
  readonly event: string;
  readonly displayTitle: string;
  readonly headBranch: string;
  readonly headSha: string;
  readonly actor: string | undefined;
  readonly createdAt: string;
  readonly attempts: RunAttempt[];
}

/** Thrown for a run that does not exist in that repository. */
export class UnknownRunError extends Error {
  override name = 'UnknownRunError';
}

/** Thrown for a step the run's state does not allow (completing a completed attempt, re-running a running one). */
export class RunStateError extends Error {
  override name = 'RunStateError';
}

/** Thrown when an ID token request names no running attempt or carries the wrong token. */
export class IdTokenRequestRefusedError extends Error {
  override name = 'IdTokenRequestRefusedError';
}

export interface WorkflowRuns {
  start(input: StartRunInput): Promise<RunAttemptHandle>;
  complete(repository: string, runId: number, conclusion: WorkflowRunConclusion): Promise<WorkflowRun>;
  rerun(repository: string, runId: number): Promise<RunAttemptHandle>;
  get(repository: string, runId: number): WorkflowRun;
  /** Answers the ID token request of a running attempt (`audience` defaults to GitHub's: the owner's URL). */
  idToken(runId: number, attempt: number, bearer: string | undefined, audience: string | undefined): Promise<string>;
}

export function createWorkflowRuns(deps: {
  state: GitHubState;
  payloads: PayloadBuilders;
  oidc: OidcIssuer;
  mainApp: () => App;
  /** Sends an App webhook (the sender checks it against GitHub's schemas). */
  send: (event: WebhookEvent) => Promise<WebhookDelivery>;
  /** Base of the double's control API (`…/_double`). */
  controlUrl: string;
  webUrl: string;
  now: () => number;
}): WorkflowRuns {
  const { state, payloads } = deps;
  const runs = new Map<number, WorkflowRun>();
  const runNumbers = new Map<string, number>();
  // Ids in their own ranges, so a test mixing up run and job ids fails.
  let nextRunId = 7_000_000_001;
  let nextJobId = 29_000_000_001;
  const timestamp = () => new Date(deps.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');

  /** The main App's installation that reaches the repository and subscribes to `event`, if any. */
  function subscribed(repository: Repository, event: string): Installation | undefined {
    const installation = state.installationFor(deps.mainApp(), repository);
    return installation && !installation.suspendedAt && installation.events.includes(event) ? installation : undefined;
  }

  function runEvent(run: WorkflowRun, attempt: RunAttempt, action: 'requested' | 'in_progress' | 'completed'): WebhookEvent | undefined {
    const installation = subscribed(run.repository, 'workflow_run');
    if (!installation) return undefined;
    return payloads.workflowRun({
      action,
      repository: fullName(run.repository),
      installationId: installation.id,
      runId: run.id,
      runNumber: run.runNumber,
      runAttempt: attempt.attempt,
      workflowName: run.workflowName,
      workflowPath: run.workflowPath,
      displayTitle: run.displayTitle,
      headBranch: run.headBranch,
      headSha: run.headSha,
      event: run.event,
      createdAt: run.createdAt,
      runStartedAt: attempt.startedAt,
      ...(run.actor ? { actor: run.actor, sender: run.actor } : {}),
      ...(action === 'completed' && attempt.conclusion ? { conclusion: attempt.conclusion } : {}),
    });
  }

  function jobEvent(run: WorkflowRun, attempt: RunAttempt, action: 'queued' | 'in_progress' | 'completed'): WebhookEvent | undefined {
    const installation = subscribed(run.repository, 'workflow_job');
    if (!installation) return undefined;
    return payloads.workflowJob({
      action,
      repository: fullName(run.repository),
      installationId: installation.id,
      runId: run.id,
      jobId: attempt.jobId,
      runAttempt: attempt.attempt,
      workflowName: run.workflowName,
      headBranch: run.headBranch,
      headSha: run.headSha,
      ...(run.actor ? { sender: run.actor } : {}),
      ...(action === 'completed' && attempt.conclusion ? { conclusion: attempt.conclusion } : {}),
    });
  }

  async function sendAll(events: (WebhookEvent | undefined)[]): Promise<void> {
    // One after another, as GitHub orders them; builders run first, so a bad payload sends nothing.
    const ready = events.filter((e): e is WebhookEvent => e !== undefined);
    for (const event of ready) await deps.send(event);
  }

  function handleOf(run: WorkflowRun, attempt: RunAttempt): RunAttemptHandle {
    return {
      id: run.id,
      attempt: attempt.attempt,
      idTokenRequestUrl: `${deps.controlUrl}/actions/runs/${run.id}/attempts/${attempt.attempt}/id-token?api-version=2.0`,
      idTokenRequestToken: attempt.requestToken,
    };
  }

  async function begin(run: WorkflowRun): Promise<RunAttemptHandle> {
    const attempt: RunAttempt = {
      attempt: run.attempts.length + 1,
      jobId: nextJobId++,
      status: 'in_progress',
      conclusion: null,
      startedAt: timestamp(),
      requestToken: randomBytes(32).toString('base64url'),
    };
    run.attempts.push(attempt);
    await sendAll([runEvent(run, attempt, 'requested'), jobEvent(run, attempt, 'queued'), runEvent(run, attempt, 'in_progress'), jobEvent(run, attempt, 'in_progress')]);
    return handleOf(run, attempt);
  }

  function get(repository: string, runId: number): WorkflowRun {
    const repo = state.repository(repository);
    const run = runs.get(runId);
    if (!run || run.repository.id !== repo.id) throw new UnknownRunError(`${repository} has no run ${runId}`);
    return run;
  }

  return {
    async start(input) {
      const repository = state.repository(input.repository);
      const workflowPath = input.workflow.includes('/') ? input.workflow.replace(/^\/+/, '') : `.github/workflows/${input.workflow}`;
      const key = `${repository.id}:${workflowPath}`;
      const runNumber = (runNumbers.get(key) ?? 0) + 1;
      runNumbers.set(key, runNumber);
      const headBranch = input.headBranch ?? repository.defaultBranch;
      const workflowName = input.name ?? workflowPath;
      const run: WorkflowRun = {
        id: nextRunId++,
        repository,
        workflowPath,
        workflowName,
        runNumber,
        event: input.event ?? 'push',
        displayTitle: input.displayTitle ?? workflowName,
        headBranch,
        headSha: input.headSha ?? repository.headSha,
        actor: input.actor === undefined ? undefined : state.user(input.actor).login,
        createdAt: timestamp(),
        attempts: [],
      };
      runs.set(run.id, run);
      return begin(run);
    },

    async complete(repository, runId, conclusion) {
      const run = get(repository, runId);
      const attempt = run.attempts.at(-1) as RunAttempt;
      if (attempt.status === 'completed') throw new RunStateError(`attempt ${attempt.attempt} of run ${runId} has already completed`);
      attempt.status = 'completed';
      attempt.conclusion = conclusion;
      await sendAll([jobEvent(run, attempt, 'completed'), runEvent(run, attempt, 'completed')]);
      return run;
    },

    async rerun(repository, runId) {
      const run = get(repository, runId);
      const last = run.attempts.at(-1) as RunAttempt;
      // GitHub re-runs only a run that has finished.
      if (last.status !== 'completed') throw new RunStateError(`run ${runId} is still in progress: complete it before re-running it`);
      return begin(run);
    },

    get,

    async idToken(runId, attemptNumber, bearer, audience) {
      const run = runs.get(runId);
      const attempt = run?.attempts.find((a) => a.attempt === attemptNumber);
      if (!run || !attempt || !bearer || bearer !== attempt.requestToken) {
        throw new IdTokenRequestRefusedError('the ID token request token does not belong to this run attempt');
      }
      if (attempt.status !== 'in_progress') throw new IdTokenRequestRefusedError(`attempt ${attemptNumber} of run ${runId} has completed: its job token has expired`);
      return deps.oidc.issue({
        repository: fullName(run.repository),
        // GitHub's default audience is the URL of the repository owner.
        audience: audience ?? `${deps.webUrl}/${run.repository.owner.login}`,
        runId: run.id,
        runNumber: run.runNumber,
        runAttempt: attempt.attempt,
        workflow: run.workflowName,
        workflowPath: run.workflowPath,
        ref: `refs/heads/${run.headBranch}`,
        sha: run.headSha,
        eventName: run.event,
        ...(run.actor ? { actor: run.actor } : {}),
      });
    },
  };
}

function fullName(repository: Repository): string {
  return `${repository.owner.login}/${repository.name}`;
}
