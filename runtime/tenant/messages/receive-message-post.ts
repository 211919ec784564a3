/**
 * `POST /api/messages[?name=<name>]`: a provider run posts one JSON message, authenticated by its
 * own GitHub Actions OIDC token and nothing else. The checks run cheapest first and the body is
 * read only for a run allowed to post; the token's `jti` is spent last, so any refusal (401, 403,
 * 413, 400) stores nothing. The body is kept byte for byte (its sha-256 is in the reference), sealed.
 *
 * Keyed by (repository id, run id, run attempt, name): a second post under the same key
 * replaces the first (new id; the old one answers 410). `201` answers the message's reference,
 * once the event side was told (`onPosted`: a message stored after its event was dispatched gets
 * follow-ups); a failed notice answers 500 so the sender posts again.
 */
import type { HttpHandler } from '@azure/functions';
import type { Logger } from '../../core/logger.ts';
import type { MessageReference, ProviderRunKey } from '../message-reference.ts';
import { InvalidMessageError, NotAllowedError, messageErrorResponse } from './message-errors.ts';
import { messageNamePattern, type MessageStore } from './message-store.ts';
import type { MayPublish } from './publish-permission.ts';
import { readJsonBody, type JsonBodyLimits } from './read-json-body.ts';
import type { RunTokenVerifier } from './verify-run-token.ts';

/** A message was stored but the event side's notice failed (a 500: the sender retries). */
export class MessageNoticeError extends Error {
  override name = 'MessageNoticeError';
}

/** Whether a repository id is one of this tenant's installations' repositories. */
export type IsTenantRepository = (repositoryId: number) => Promise<boolean>;

/**
 * Told after a message is stored. The event side uses it so a message that lands after its run's
 * event was built is not lost (docs/action.md, "Messages and events").
 */
export type OnMessagePosted = (run: ProviderRunKey, reference: MessageReference) => Promise<void>;

export interface MessagePostOptions {
  readonly verify: RunTokenVerifier;
  readonly isTenantRepository: IsTenantRepository;
  readonly mayPublish: MayPublish;
  readonly store: Pick<MessageStore, 'put'>;
  readonly limits: JsonBodyLimits;
  readonly onPosted?: OnMessagePosted;
  readonly log: Logger;
}

export function createMessagePostHandler(options: MessagePostOptions): HttpHandler {
  return async (request, context) => {
    try {
      const token = await options.verify(request.headers.get('authorization'));
      const { run } = token;
      const log = options.log.child({ repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt });
      if (!(await options.isTenantRepository(run.repositoryId))) throw new NotAllowedError('the repository is not one of this tenant\'s installations');
      if (!(await options.mayPublish(run.repositoryId))) throw new NotAllowedError('the repository\'s publish policy names no consumer');
      const name = request.query.get('name') ?? undefined;
      if (name !== undefined && !messageNamePattern.test(name)) throw new InvalidMessageError('name must be 1-64 letters, digits, ".", "_" or "-"');
      const body = await readJsonBody(request, options.limits);
      await token.consume();
      const reference = await options.store.put({ ...run, ...(name ? { name } : {}), bytes: body.bytes });
      log.info({ messageId: reference.id, size: reference.size }, 'message stored');
      if (options.onPosted) {
        // Without the notice, consumers already dispatched would never hear of this message: the
        // post fails (500) and the Action's retry posts it again under the same key (a new id, a new notice).
        await options.onPosted(run, reference).catch((err: unknown) => {
          log.error({ err: { name: (err as Error).name, message: (err as Error).message }, messageId: reference.id }, 'message stored, but its event could not be told');
          throw new MessageNoticeError(`message ${reference.id} stored, its event not told`, { cause: err });
        });
      }
      return { status: 201, headers: { 'cache-control': 'no-store' }, jsonBody: reference };
    } catch (err) {
      return messageErrorResponse(err, context);
    }
  };
}
