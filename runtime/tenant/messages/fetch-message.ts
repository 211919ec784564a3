/**
 * `GET /api/messages/{id}`: a consumer run fetches a message with its own OIDC token. Only a
 * repository that was delivered an event referencing the message may (the delivery records answer,
 * `WasMessageDeliveredTo`); any other gets 403 whether or not the id exists, so ids cannot be
 * probed. The answer is the stored JSON, byte for byte, with its digest in `x-zekt-sha256`.
 */
import type { HttpHandler } from '@azure/functions';
import type { Logger } from '../../core/logger.ts';
import type { WasMessageDeliveredTo } from '../message-reference.ts';
import { NotAllowedError, messageErrorResponse } from './message-errors.ts';
import type { MessageStore } from './message-store.ts';
import type { IsTenantRepository } from './receive-message-post.ts';
import type { RunTokenVerifier } from './verify-run-token.ts';

export interface MessageFetchOptions {
  readonly verify: RunTokenVerifier;
  readonly isTenantRepository: IsTenantRepository;
  readonly wasDelivered: WasMessageDeliveredTo;
  readonly store: Pick<MessageStore, 'open'>;
  readonly log: Logger;
}

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createMessageFetchHandler(options: MessageFetchOptions): HttpHandler {
  return async (request, context) => {
    try {
      const token = await options.verify(request.headers.get('authorization'));
      const { run } = token;
      const id = request.params.id ?? '';
      const allowed =
        idPattern.test(id) && (await options.isTenantRepository(run.repositoryId)) && (await options.wasDelivered(id, run.repositoryId));
      if (!allowed) throw new NotAllowedError('this repository was not delivered an event referencing that message');
      await token.consume();
      const { bytes, message } = await options.store.open(id);
      options.log.info({ messageId: id, consumerRepositoryId: run.repositoryId, runId: run.runId }, 'message fetched');
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-zekt-sha256': message.sha256 },
        body: bytes,
      };
    } catch (err) {
      return messageErrorResponse(err, context);
    }
  };
}
