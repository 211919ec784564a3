/**
 * The one queue function of orchestration, on the tenant's `deliveries` queue: a message is
 * a delivery to send (`dispatch`), a settled report to send (`report`), a late message's
 * follow-up (`follow-up`, follow-up-delivery.ts), or a workflow run (`run`: fan out if it
 * completed, link it if it is a consumer's run — the intake now hands runs over in process,
 * create-orchestration.ts `acceptRun`; a `run` message still in a queue from an earlier version is
 * handled the same way). All are idempotent, so a repeated or
 * retried message changes nothing more.
 */
import type { WorkflowState } from '../workflow-event-store.ts';
import type { Dispatcher, DispatchMessage } from './dispatch-delivery.ts';

export interface RunMessage {
  readonly kind: 'run';
  readonly run: WorkflowState;
}

export type DeliveryQueueMessage = RunMessage | DispatchMessage;

/** Thrown for a message of no known kind (it goes to the poison queue after its retries). */
export class UnknownQueueMessageError extends Error {
  override name = 'UnknownQueueMessageError';
}

export function createDeliveryMessageHandler(options: {
  fanOut: (run: WorkflowState) => Promise<unknown>;
  onConsumerRun: (run: WorkflowState) => Promise<unknown>;
  dispatcher: Dispatcher;
  reports: Dispatcher;
  followUps?: { handle(message: DispatchMessage): Promise<void> };
}) {
  return async function handleDeliveryMessage(message: unknown): Promise<void> {
    const m = message as Partial<DeliveryQueueMessage> | null;
    if (m?.kind === 'dispatch' && typeof m.deliveryId === 'string') return options.dispatcher.handle(m as DispatchMessage);
    if (m?.kind === 'report' && typeof m.deliveryId === 'string') return options.reports.handle(m as DispatchMessage);
    if (m?.kind === 'follow-up' && typeof m.deliveryId === 'string' && options.followUps) return options.followUps.handle(m as DispatchMessage);
    if (m?.kind === 'run' && m.run && typeof m.run === 'object') {
      const run = (m as RunMessage).run;
      await Promise.all([run.status === 'completed' ? options.fanOut(run) : undefined, options.onConsumerRun(run)]);
      return;
    }
    throw new UnknownQueueMessageError('not a delivery queue message');
  };
}
