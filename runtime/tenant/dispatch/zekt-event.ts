/**
 * A Zekt event: what a provider's completed workflow run attempt becomes — run metadata and the
 * references of the messages it posted, never a message body. Its id is derived from the run
 * (`<providerRepositoryId>-<runId>-<attempt>`), so however often and in whatever order GitHub
 * sends the `completed` webhook, every copy names the same event: creating it is create-if-absent.
 */
import type { MessageReference } from '../message-reference.ts';
import type { RepositoryRef } from '../subscriptions/subscription-index.ts';
import type { WorkflowState } from '../workflow-event-store.ts';

export interface ZektEvent {
  /** `<providerRepositoryId>-<runId>-<attempt>`. */
  readonly id: string;
  readonly provider: RepositoryRef;
  readonly workflow: { readonly name?: string; readonly path?: string };
  readonly run: {
    readonly id: number;
    readonly attempt: number;
    readonly conclusion: string;
    readonly headBranch?: string;
    readonly headSha?: string;
    readonly url?: string;
  };
  readonly messages: readonly MessageReference[];
  /** The installation the provider's webhook came through. */
  readonly installationId?: number;
  readonly createdAt: string;
  /**
   * Settlement (settle-event.ts): the sum of its deliveries' generations when last looked at — it
   * grows with each redelivery and each delivery added later, so each reopening has its own number.
   */
  readonly settlementSequence?: number;
  /** When every delivery of that sequence had ended (`completed`, `unconfirmed`, `dead`); absent while open. */
  readonly settledAt?: string;
  /** What the last settlement found; kept while a redelivery has the event open again. */
  readonly summary?: SettlementSummary;
}

/** How the deliveries of an event ended, counted at its settlement. */
export interface SettlementSummary {
  readonly sequence: number;
  readonly deliveries: number;
  readonly completed: number;
  readonly unconfirmed: number;
  readonly dead: number;
  /** Completed deliveries by their consumer run's conclusion (`success`, `failure`, …). */
  readonly conclusions: Readonly<Record<string, number>>;
}

export const eventIdOf = (run: { repositoryId: number; runId: number; runAttempt: number }) => `${run.repositoryId}-${run.runId}-${run.runAttempt}`;

/** The file name of a workflow path (`.github/workflows/release.yml` → `release.yml`). */
export const workflowFileOf = (path: string | undefined) => path?.split('/').pop();

export function buildZektEvent(state: WorkflowState, messages: readonly MessageReference[], now: Date): ZektEvent {
  return {
    id: eventIdOf(state),
    provider: { id: state.repositoryId, fullName: state.repository },
    workflow: { ...(state.name ? { name: state.name } : {}), ...(state.path ? { path: state.path } : {}) },
    run: {
      id: state.runId,
      attempt: state.runAttempt,
      conclusion: state.conclusion ?? 'unknown',
      ...(state.headBranch ? { headBranch: state.headBranch } : {}),
      ...(state.headSha ? { headSha: state.headSha } : {}),
      ...(state.url ? { url: state.url } : {}),
    },
    messages,
    ...(state.installationId !== undefined ? { installationId: state.installationId } : {}),
    createdAt: now.toISOString(),
  };
}

/** GitHub caps `event_type` at 100 characters (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event). */
export const maxEventTypeLength = 100;

/**
 * The `event_type` a consumer receives when its subscription names none:
 * `zekt:<owner>/<repo>:<workflow file>` (the workflow's name when the file is unknown), cut at
 * 100 characters.
 */
export function defaultEventType(event: ZektEvent): string {
  const workflow = workflowFileOf(event.workflow.path) ?? event.workflow.name ?? 'workflow';
  return `zekt:${event.provider.fullName}:${workflow}`.slice(0, maxEventTypeLength);
}
