/**
 * Checks webhook payloads against GitHub's webhook descriptions (`@octokit/openapi-webhooks`,
 * OpenAPI 3.1, so plain JSON Schema 2020-12). A payload of event `workflow_run` and action
 * `completed` is checked against the schema of webhook `workflow-run-completed`; `ping` has no
 * action. The description (~5 MB) is read on first use, not at start-up.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addCachedFormats } from './cached-formats.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import { createSchemaRegistry, type SchemaRegistry } from './schema-registry.ts';

const require = createRequire(import.meta.url);

export const webhookDescriptionPath = require.resolve('@octokit/openapi-webhooks/generated/api.github.com.json');

export interface WebhookCheck {
  /** The description's webhook key, e.g. `workflow-run-completed`. */
  readonly webhook: string;
  readonly problems: readonly string[];
}

export interface WebhookValidator {
  check(event: string, payload: JsonObject): Promise<WebhookCheck>;
}

/** Thrown when the description has no webhook for an event and action. */
export class UnknownWebhookError extends Error {
  override name = 'UnknownWebhookError';
  constructor(readonly webhook: string) {
    super(`GitHub's webhook description has no webhook "${webhook}"`);
  }
}

export function createWebhookValidator(options: { descriptionPath?: string } = {}): WebhookValidator {
  let loaded: Promise<{ webhooks: JsonObject; registry: SchemaRegistry }> | undefined;

  async function load() {
    const document = JSON.parse(await readFile(options.descriptionPath ?? webhookDescriptionPath, 'utf8')) as JsonObject;
    const components = isJsonObject(document.components) ? document.components : {};
    const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateSchema: false });
    addCachedFormats(ajv);
    const registry = createSchemaRegistry({
      ajv,
      schemas: isJsonObject(components.schemas) ? components.schemas : {},
      idPrefix: 'urn:github-webhooks:',
    });
    return { webhooks: isJsonObject(document.webhooks) ? document.webhooks : {}, registry };
  }

  return {
    async check(event, payload) {
      loaded ??= load();
      const { webhooks, registry } = await loaded;
      const action = typeof payload.action === 'string' ? payload.action : undefined;
      const webhook = [event, action].filter(Boolean).join('-').replace(/_/g, '-');
      const definition = webhooks[webhook] ?? (action ? undefined : webhooks[event.replace(/_/g, '-')]);
      const schema = schemaOf(definition);
      if (!schema) throw new UnknownWebhookError(webhook);
      const validate = registry.compile(webhook, schema);
      if (validate(payload)) return { webhook, problems: [] };
      return {
        webhook,
        problems: (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} (${e.schemaPath})`),
      };
    },
  };
}

function schemaOf(definition: Json | undefined): JsonObject | undefined {
  if (!isJsonObject(definition) || !isJsonObject(definition.post)) return undefined;
  const body = definition.post.requestBody;
  if (!isJsonObject(body) || !isJsonObject(body.content)) return undefined;
  const media = body.content['application/json'];
  return isJsonObject(media) && isJsonObject(media.schema) ? media.schema : undefined;
}
