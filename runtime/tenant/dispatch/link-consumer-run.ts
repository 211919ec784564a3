/**
 * Confirmation: which consumer run a delivery started. A `204` from `repository_dispatch` only
 * says GitHub accepted the event, so Zekt links the run it started, found two ways:
 * - the consumer workflow names its run after the correlation id
 *   (`run-name: ${{ github.event.client_payload.zekt.correlation_id }}`), and the consumer's own
 *   `workflow_run` webhooks (which reach this tenant: the consumer is in its installations) carry
 *   it as `display_title`;
 * - the consumer posts a receipt (the messages endpoint calls `linkDelivery`).
 * The link records the run's status and conclusion and moves the delivery to `started`, then
 * `completed`. A link only moves forward (a later generation, a later attempt, a later status),
 * and a run of another repository than the delivery's consumer never links.
 */
import type { Logger } from '../../core/logger.ts';
import type { WorkflowState } from '../workflow-event-store.ts';
import { correlationIdOf, parseCorrelationId, statusOfLinkedRun, type DeliveryRecord, type LinkedRun } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';

export class DeliveryNotFoundError extends Error {
  override name = 'DeliveryNotFoundError';
}

/** The run belongs to another repository than the delivery's consumer. */
export class DeliveryConsumerMismatchError extends Error {
  override name = 'DeliveryConsumerMismatchError';
}

export interface LinkDeliveryInput {
  /** One of the two: the correlation id of the dispatch, or the delivery id (its current generation). */
  readonly correlationId?: string;
  readonly deliveryId?: string;
  /** The repository the run belongs to (from the caller's OIDC token or the webhook). */
  readonly consumerRepositoryId: number;
  readonly consumerRunId: number;
  readonly attempt: number;
  /** GitHub's run status; `in_progress` when a receipt does not say. */
  readonly status?: string;
  readonly conclusion?: string;
  readonly url?: string;
  readonly via?: LinkedRun['via'];
}

const rank = (status: string) => (status === 'completed' ? 3 : status === 'in_progress' ? 2 : 1);
const generationOf = (run: LinkedRun) => parseCorrelationId(run.correlationId)?.generation ?? 0;

/** Whether `next` should replace the delivery's current link. */
function isNewerLink(current: LinkedRun | undefined, next: LinkedRun): boolean {
  if (!current) return true;
  if (generationOf(next) !== generationOf(current)) return generationOf(next) > generationOf(current);
  if (next.id !== current.id) return false;
  if (next.attempt !== current.attempt) return next.attempt > current.attempt;
  return rank(next.status) > rank(current.status);
}

export function createRunLinker(options: { deliveries: DeliveryStore; log: Logger; now?: () => Date }) {
  const now = options.now ?? (() => new Date());

  async function linkDelivery(input: LinkDeliveryInput): Promise<DeliveryRecord> {
    const parsed = input.correlationId ? parseCorrelationId(input.correlationId) : undefined;
    const deliveryId = parsed?.deliveryId ?? input.deliveryId;
    if (!deliveryId) throw new DeliveryNotFoundError('give a correlationId or a deliveryId');
    let mismatch = false;
    let correlationId = input.correlationId;
    const updated = await options.deliveries.update(deliveryId, (current) => {
      if (current.consumer.id !== input.consumerRepositoryId) {
        mismatch = true;
        return undefined;
      }
      const generation = parsed?.generation ?? current.generation;
      if (generation > current.generation) return undefined;
      correlationId = correlationIdOf(current.id, generation);
      const run: LinkedRun = {
        id: input.consumerRunId,
        attempt: input.attempt,
        status: input.status ?? 'in_progress',
        ...(input.conclusion ? { conclusion: input.conclusion } : {}),
        ...(input.url ? { url: input.url } : {}),
        via: input.via ?? 'receipt',
        correlationId,
        linkedAt: now().toISOString(),
      };
      if (!isNewerLink(current.linkedRun, run)) return undefined;
      // A run of the current generation decides the status; an older generation's run is only recorded.
      const status = generation === current.generation && current.status !== 'dead' ? statusOfLinkedRun(run) : current.status;
      const { likelyCauses: _causes, ...rest } = current;
      return { ...rest, linkedRun: run, status, updatedAt: now().toISOString() };
    });
    if (!updated) throw new DeliveryNotFoundError(`no delivery ${deliveryId}`);
    if (mismatch) throw new DeliveryConsumerMismatchError(`delivery ${deliveryId} was not sent to repository ${input.consumerRepositoryId}`);
    if (correlationId) await options.deliveries.linkRun(input.consumerRepositoryId, input.consumerRunId, correlationId);
    return updated;
  }

  /** A consumer's `workflow_run` webhook: link by its title, or update the run already linked. */
  async function onConsumerRun(run: WorkflowState): Promise<DeliveryRecord | undefined> {
    if (run.kind !== 'run') return undefined;
    const titled = parseCorrelationId(run.displayTitle);
    const parsed = titled ?? parseCorrelationId(await options.deliveries.correlationOfRun(run.repositoryId, run.runId));
    if (!parsed) return undefined;
    try {
      return await linkDelivery({
        correlationId: parsed.correlationId,
        consumerRepositoryId: run.repositoryId,
        consumerRunId: run.runId,
        attempt: run.runAttempt,
        status: run.status,
        ...(run.conclusion ? { conclusion: run.conclusion } : {}),
        ...(run.url ? { url: run.url } : {}),
        via: titled ? 'display_title' : 'receipt',
      });
    } catch (err) {
      if (err instanceof DeliveryNotFoundError || err instanceof DeliveryConsumerMismatchError) {
        options.log.warn({ runId: run.runId, repositoryId: run.repositoryId, reason: err.message }, 'run names a delivery it cannot link to');
        return undefined;
      }
      throw err;
    }
  }

  return { linkDelivery, onConsumerRun };
}
