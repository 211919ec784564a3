/**
 * `POST /api/receipts` with `{"event_id": "…"}`: a consumer run says which event started it,
 * with its own OIDC token. The delivery of that event to the token's repository gets the run's id
 * and attempt (`LinkDelivery`, the delivery records' side): provider run → event → consumer run,
 * both ways. No delivery of that event to this repository → 403. A repeat links the same run again.
 */
import type { HttpHandler } from '@azure/functions';
import type { Logger } from '../../core/logger.ts';
import { InvalidMessageError, NotAllowedError, messageErrorResponse } from './message-errors.ts';
import { readJsonBody } from './read-json-body.ts';
import type { IsTenantRepository } from './receive-message-post.ts';
import type { RunTokenVerifier } from './verify-run-token.ts';

/** What a receipt records on a delivery. */
export interface DeliveryReceipt {
  readonly eventId: string;
  readonly consumerRepositoryId: number;
  readonly runId: number;
  readonly runAttempt: number;
}

/** The delivery records' side: link the consumer run, or say there is no such delivery. */
export type LinkDelivery = (receipt: DeliveryReceipt) => Promise<'linked' | 'no-delivery'>;

export interface ReceiptOptions {
  readonly verify: RunTokenVerifier;
  readonly isTenantRepository: IsTenantRepository;
  readonly linkDelivery: LinkDelivery;
  readonly log: Logger;
}

export function createReceiptHandler(options: ReceiptOptions): HttpHandler {
  return async (request, context) => {
    try {
      const token = await options.verify(request.headers.get('authorization'));
      const { run } = token;
      if (!(await options.isTenantRepository(run.repositoryId))) throw new NotAllowedError('the repository is not one of this tenant\'s installations');
      const { value } = await readJsonBody(request, { maxBytes: 4096, maxDepth: 2 });
      const eventId = (value as { event_id?: unknown } | null)?.event_id;
      if (typeof eventId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(eventId)) throw new InvalidMessageError('event_id is required');
      await token.consume();
      const receipt = { eventId, consumerRepositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt };
      if ((await options.linkDelivery(receipt)) === 'no-delivery') throw new NotAllowedError('no delivery of that event to this repository');
      options.log.info(receipt, 'consumer run linked');
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: { linked: true, event_id: eventId, run_id: run.runId, run_attempt: run.runAttempt } };
    } catch (err) {
      return messageErrorResponse(err, context);
    }
  };
}
