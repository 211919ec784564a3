/**
 * The message endpoints of a tenant runtime, as function-table entries: `POST messages`,
 * `GET messages/{id}`, `POST receipts` and the purge timer. The OIDC token is their only
 * authentication (anonymous at the Functions level: no function key is ever in a workflow).
 *
 * The parts other areas own come in as functions: whether a repository is the tenant's
 * (`isTenantRepository`), whether it may publish (`mayPublish`, the subscription index), whether a
 * message was delivered to a consumer (`wasDelivered`) and the receipt's link (`linkDelivery`),
 * both from the delivery records.
 */
import type { TableClient } from '@azure/data-tables';
import type { FunctionDefinition } from '../../functions/function-table.ts';
import type { MessageSettings } from '../../config.ts';
import type { Logger } from '../../core/logger.ts';
import type { WasMessageDeliveredTo } from '../message-reference.ts';
import { cacheAllowed } from './cache-allowed.ts';
import { createMessageFetchHandler } from './fetch-message.ts';
import { messageAudienceOf } from './message-audience.ts';
import { createMessageCipher, type MessageKeys } from './message-cipher.ts';
import { createMessageStore, type MessageStore } from './message-store.ts';
import { createReceiptHandler, type LinkDelivery } from './post-receipt.ts';
import type { MayPublish } from './publish-permission.ts';
import { createMessagePostHandler, type IsTenantRepository, type OnMessagePosted } from './receive-message-post.ts';
import { createRunTokenVerifier } from './verify-run-token.ts';

export interface MessageDeps {
  readonly tenantId: string;
  /** The tenant's `messages` table. */
  readonly table: TableClient;
  readonly log: Logger;
  /** `GITHUB_OIDC_ISSUER`. */
  readonly oidcIssuer: string;
  /** The tenant vault's message key (cached here for `keyCacheSeconds`). */
  readonly messageKeys: () => Promise<MessageKeys | undefined>;
  readonly settings: MessageSettings;
  /** `<tenant base URL>/api/messages`, read when a reference is built. */
  readonly messagesUrl: () => string;
  readonly isTenantRepository: IsTenantRepository;
  readonly mayPublish: MayPublish;
  readonly wasDelivered: WasMessageDeliveredTo;
  readonly linkDelivery: LinkDelivery;
  readonly onPosted?: OnMessagePosted;
  readonly now?: () => number;
  /** NCRONTAB of the purge timer (every ten minutes by default). */
  readonly purgeSchedule?: string;
}

/** How long a key read from the vault is used before it is read again (a rotation shows up by then). */
export const keyCacheSeconds = 300;

export function createMessageParts(deps: MessageDeps): { functions: FunctionDefinition[]; store: MessageStore } {
  const now = deps.now ?? Date.now;
  let cached: { at: number; keys: Promise<MessageKeys | undefined> } | undefined;
  const keys = () => {
    if (!cached || now() - cached.at > keyCacheSeconds * 1000) {
      const entry = { at: now(), keys: deps.messageKeys() };
      // A failed or empty read is not kept: the next request asks the vault again.
      entry.keys.then((k) => k ?? (cached = undefined), () => (cached = undefined));
      cached = entry;
    }
    return cached.keys;
  };
  const store = createMessageStore({
    tenantId: deps.tenantId,
    table: deps.table,
    cipher: createMessageCipher(keys),
    ttlSeconds: deps.settings.ttlSeconds,
    messagesUrl: deps.messagesUrl,
    now,
  });
  const verify = createRunTokenVerifier({ issuer: deps.oidcIssuer, audience: messageAudienceOf(deps.tenantId), table: deps.table, now });
  const log = deps.log.child({ tenantId: deps.tenantId });
  // Two table reads per request that rarely change answer: allowed repositories are remembered briefly.
  const isTenantRepository = cacheAllowed(deps.isTenantRepository, { now });
  const mayPublish = cacheAllowed(deps.mayPublish, { now });
  return {
    store,
    functions: [
      {
        kind: 'http',
        name: 'postMessage',
        route: 'messages',
        methods: ['POST'],
        authLevel: 'anonymous',
        // The host stops reading at the message cap too (ZEKT_MESSAGE_MAX_BYTES may exceed its default).
        maxBodyBytes: deps.settings.maxBytes,
        handler: createMessagePostHandler({
          verify,
          isTenantRepository,
          mayPublish,
          store,
          limits: { maxBytes: deps.settings.maxBytes, maxDepth: deps.settings.maxDepth },
          ...(deps.onPosted ? { onPosted: deps.onPosted } : {}),
          log,
        }),
      },
      {
        kind: 'http',
        name: 'getMessage',
        route: 'messages/{id}',
        methods: ['GET'],
        authLevel: 'anonymous',
        handler: createMessageFetchHandler({ verify, isTenantRepository, wasDelivered: deps.wasDelivered, store, log }),
      },
      {
        kind: 'http',
        name: 'postReceipt',
        route: 'receipts',
        methods: ['POST'],
        authLevel: 'anonymous',
        handler: createReceiptHandler({ verify, isTenantRepository, linkDelivery: deps.linkDelivery, log }),
      },
      {
        kind: 'timer',
        name: 'purgeMessages',
        schedule: deps.purgeSchedule ?? '0 */10 * * * *',
        handler: async (_timer, context) => {
          const { expired, forgotten } = await store.purge();
          if (expired || forgotten) context.log(`messages purged: ${expired} expired, ${forgotten} forgotten`);
        },
      },
    ],
  };
}
