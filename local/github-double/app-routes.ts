/**
 * The REST operations a GitHub App calls with its JWT: who am I, where am I installed, mint an
 * installation token, and the App webhook's delivery log with redelivery
 * (https://docs.github.com/rest/apps/webhooks).
 */
import type { ApiRoutes, RouteContext } from './api-route.ts';
import { paginate } from './api-route.ts';
import { notFound, validationFailed } from './github-api-error.ts';
import type { InstallationTokens } from './installation-tokens.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import type { Representations } from './representations.ts';
import type { GitHubState, PermissionLevel, Permissions } from './state.ts';
import type { WebhookDelivery, WebhookSender } from './webhook-sender.ts';

export function createAppRoutes(deps: {
  state: GitHubState;
  tokens: InstallationTokens;
  representations: Representations;
  sender: WebhookSender;
}): ApiRoutes {
  const { state, tokens, representations: rep, sender } = deps;

  function installationOf(context: RouteContext, appId: number) {
    const installation = state.installations.get(Number(context.params.installation_id));
    // Another App's installation is as invisible as a missing one.
    if (!installation || installation.app.id !== appId) throw notFound(context.operation.documentationUrl);
    return installation;
  }

  function deliveryOf(context: RouteContext, appId: number): WebhookDelivery {
    const delivery = sender.deliveries.find((d) => d.id === Number(context.params.delivery_id));
    if (!delivery || delivery.appId !== appId) {
      throw notFound(context.operation.documentationUrl);
    }
    return delivery;
  }

  return {
    'apps/get-authenticated': {
      auth: 'app',
      handle({ credential }) {
        const count = [...state.installations.values()].filter((i) => i.app.id === credential.app.id).length;
        return { status: 200, json: { ...rep.integration(credential.app), installations_count: count } };
      },
    },

    'apps/list-installations': {
      auth: 'app',
      handle(context) {
        const mine = [...state.installations.values()].filter((i) => i.app.id === context.credential.app.id);
        const { page, headers } = paginate(mine, context);
        return { status: 200, headers, json: page.map((i) => rep.installation(i)) };
      },
    },

    'apps/get-installation': {
      auth: 'app',
      handle(context) {
        return { status: 200, json: rep.installation(installationOf(context, context.credential.app.id)) };
      },
    },

    'apps/create-installation-access-token': {
      auth: 'app',
      handle(context) {
        const installation = installationOf(context, context.credential.app.id);
        const body = isJsonObject(context.body) ? context.body : {};
        const { token, repositories } = tokens.mint(installation, {
          ...(Array.isArray(body.repository_ids) ? { repositoryIds: body.repository_ids.map(Number) } : {}),
          ...(Array.isArray(body.repositories) ? { repositories: body.repositories.map(String) } : {}),
          ...(isJsonObject(body.permissions) ? { permissions: body.permissions as Record<string, PermissionLevel> as Permissions } : {}),
        });
        const json: JsonObject = {
          token: token.token,
          expires_at: new Date(token.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: { ...token.permissions },
          repository_selection: repositories ? 'selected' : installation.repositorySelection,
          ...(repositories ? { repositories: repositories.map((r) => rep.repository(r)) } : {}),
        };
        if (installation.singleFilePaths.length > 0 && token.permissions.single_file) {
          json.single_file = installation.singleFilePaths[0] as string;
          json.has_multiple_single_files = installation.singleFilePaths.length > 1;
          json.single_file_paths = [...installation.singleFilePaths];
        }
        return { status: 201, json };
      },
    },

    'apps/list-webhook-deliveries': {
      auth: 'app',
      handle(context) {
        const appId = context.credential.app.id;
        const perPage = Math.min(Math.max(Number(context.params.per_page ?? 30) || 30, 1), 100);
        const status = context.params.status;
        // Newest first, as GitHub lists them.
        let items = sender.deliveries
          .filter((d) => d.appId === appId)
          .filter((d) => status === undefined || (status === 'success' ? d.statusCode < 400 : d.statusCode >= 400))
          .slice()
          .reverse();
        const cursor = context.params.cursor;
        if (typeof cursor === 'string') {
          const from = decodeCursor(cursor);
          if (from === undefined) throw validationFailed('Invalid cursor', context.operation.documentationUrl);
          items = items.filter((d) => d.id <= from);
        }
        const page = items.slice(0, perPage);
        const next = items[perPage];
        const headers: Record<string, string> = {};
        if (next) {
          const url = new URL(context.request.url);
          url.searchParams.set('per_page', String(perPage));
          url.searchParams.set('cursor', encodeCursor(next.id));
          headers.link = `<${url.toString()}>; rel="next"`;
        }
        return { status: 200, headers, json: page.map(deliveryItem) };
      },
    },

    'apps/get-webhook-delivery': {
      auth: 'app',
      handle(context) {
        const delivery = deliveryOf(context, context.credential.app.id);
        return {
          status: 200,
          json: {
            ...deliveryItem(delivery),
            url: delivery.url,
            request: { headers: { ...delivery.request.headers }, payload: delivery.request.payload },
            response: {
              headers: delivery.response.headers ? { ...delivery.response.headers } : null,
              payload: delivery.response.payload,
            },
          },
        };
      },
    },

    'apps/redeliver-webhook-delivery': {
      auth: 'app',
      handle(context) {
        const delivery = deliveryOf(context, context.credential.app.id);
        sender.redeliver(delivery, context.credential.app);
        return { status: 202, json: {} };
      },
    },
  };
}

function deliveryItem(delivery: WebhookDelivery): JsonObject {
  const item: Record<string, Json> = {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: delivery.deliveredAt,
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: delivery.installationId,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
  return item;
}

/** Cursors are opaque to clients; here, the id of the first delivery of the page. */
function encodeCursor(id: number): string {
  return Buffer.from(`v1_${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^v1_(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : undefined;
}
