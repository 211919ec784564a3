/**
 * Webhook payloads made from GitHub's real examples (`@octokit/webhooks-examples`), never from
 * invented shapes: a builder takes the newest example of the event and action, points every URL at
 * the double, and replaces the fields that name things (repository, accounts, installation, run and
 * job ids, status, conclusion) with the double's state. App deliveries carry `installation:
 * { id, node_id }`, as GitHub adds it to every event it sends to an App. The sender checks each
 * payload against GitHub's webhook schemas before it leaves, so a builder that drifts fails loudly.
 * One file per family of events; this one names the inputs and puts the builders together.
 */
import { createPayloadHelpers, type PayloadContext } from './example-payloads.ts';
import { createInstallationPayloads } from './installation-payloads.ts';
import type { JsonObject } from './json.ts';
import { createPushPayload } from './push-payload.ts';
import type { App } from './state.ts';
import { createWorkflowPayloads } from './workflow-payloads.ts';

export { MissingExampleError } from './example-payloads.ts';

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
  /** The repository's default branch by default. */
  readonly headBranch?: string;
  readonly headSha?: string;
  /** The event that started the run; `push` by default. */
  readonly event?: string;
  /** `display_title`: the workflow's `run-name` (the workflow name by default). */
  readonly displayTitle?: string;
  /** Login of the run's actor; the sender by default. */
  readonly actor?: string;
  /** When the run was created (ISO 8601); now by default. Attempts of one run share it. */
  readonly createdAt?: string;
  /** When this attempt started (ISO 8601); now by default. */
  readonly runStartedAt?: string;
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

export interface InstallationInput {
  readonly action: 'created' | 'deleted';
  readonly installationId: number;
  /** Login of the sender; the installer (or a member of the account) by default. */
  readonly sender?: string;
}

export interface InstallationRepositoriesInput {
  readonly action: 'added' | 'removed';
  readonly installationId: number;
  /** Repository names (in the installation's account) added or removed. */
  readonly repositories: readonly string[];
  readonly sender?: string;
}

/** One commit pushed to a branch. */
export interface PushInput {
  /** `owner/name`. */
  readonly repository: string;
  /** The repository's default branch by default. */
  readonly branch?: string;
  /** The commit the branch pointed at before, and the new one. */
  readonly before: string;
  readonly after: string;
  readonly treeId: string;
  readonly message: string;
  readonly added: readonly string[];
  readonly modified: readonly string[];
  readonly removed: readonly string[];
  /** Login of the pusher; the repository owner by default. */
  readonly sender?: string;
  readonly installationId?: number;
}

export interface PayloadBuilders {
  workflowRun(input: WorkflowRunInput): WebhookEvent;
  workflowJob(input: WorkflowJobInput): WebhookEvent;
  installation(input: InstallationInput): WebhookEvent;
  installationRepositories(input: InstallationRepositoriesInput): WebhookEvent;
  push(input: PushInput): WebhookEvent;
  /** The ping GitHub sends to an App's webhook URL when the App is registered or its hook changes. */
  ping(input?: { app?: App }): WebhookEvent;
}


export function createPayloadBuilders(context: PayloadContext): PayloadBuilders {
  const helpers = createPayloadHelpers(context);
  return {
    ...createWorkflowPayloads(context, helpers),
    ...createInstallationPayloads(context, helpers),
    push: createPushPayload(context, helpers),
  };
}
