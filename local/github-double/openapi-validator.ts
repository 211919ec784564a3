/**
 * Checks requests and responses against GitHub's own REST description (`@octokit/openapi`,
 * OpenAPI 3.0.3). The non-dereferenced `api.github.com.json` is read once (about 13 MB, ~0.1 s and
 * ~40 MB of heap); the dereferenced variant costs ~0.5 s and ~185 MB and gains nothing here, since
 * each `#/components/schemas/…` reference is registered with ajv on first use, so ajv resolves
 * references (and their cycles) itself. Validators are compiled lazily, per operation and part, the
 * first time a request needs them, so start-up stays fast; requests find their operation through
 * a route table built once (`openapi-routes.ts`).
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` is turned into a `null` type (and a `null`
 * enum member), see https://spec.openapis.org/oas/v3.0.3#fixed-fields-19. `discriminator` and
 * `example` are annotations; with `strict: false` ajv ignores them (oneOf still applies). The few
 * known mistakes of the description itself are fixed narrowly first (`openapi-errata.ts`).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { addCachedFormats } from './cached-formats.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import { applyOpenApiErrata } from './openapi-errata.ts';
import { asArray, derefLocal } from './openapi-refs.ts';
import { createRouteTable } from './openapi-routes.ts';
import { createSchemaRegistry } from './schema-registry.ts';
import { describeErrors } from './describe-schema-errors.ts';

const require = createRequire(import.meta.url);

/** The REST description Zekt's calls are checked against (github.com, not GHES). */
export const restDescriptionPath = require.resolve('@octokit/openapi/generated/api.github.com.json');

/** One operation of the description, with the path parameters of a concrete request. */
export interface MatchedOperation {
  readonly operationId: string;
  readonly method: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/dispatches`. */
  readonly template: string;
  /** Path parameters as sent (URL-decoded strings). */
  readonly pathParams: Readonly<Record<string, string>>;
  /** GitHub's documentation page of the operation (used as `documentation_url`). */
  readonly documentationUrl: string;
}

export type RouteMatch =
  | { readonly kind: 'operation'; readonly operation: MatchedOperation }
  /** The path exists in the description, but not with this method. */
  | { readonly kind: 'method-not-allowed'; readonly template: string }
  | { readonly kind: 'unknown-path' };

/** What a request carried, before any coercion. */
export interface RequestParts {
  readonly query: URLSearchParams;
  /** The parsed JSON body; `undefined` when the request had none. */
  readonly body: Json | undefined;
}

export interface RequestCheck {
  /** Query and path parameters coerced to their declared types (only the declared ones). */
  readonly params: Readonly<Record<string, Json>>;
  /** One line per problem, worded like GitHub's 422 bodies. */
  readonly problems: readonly string[];
  /** Whether a problem lies in a path parameter (GitHub answers 404 for those, not 422). */
  readonly inPath: boolean;
}

export interface ResponseCheck {
  readonly problems: readonly string[];
}

export interface OpenApiValidator {
  match(method: string, pathname: string): RouteMatch;
  checkRequest(operation: MatchedOperation, parts: RequestParts): RequestCheck;
  /**
   * Checks a response body against the operation's declared response for `status`. Error
   * statuses GitHub sends but does not declare for every operation (401, 403, 404, 422, 429) are
   * checked against `basic-error`; any other undeclared status is itself a problem.
   */
  checkResponse(operation: MatchedOperation, status: number, contentType: string, body: Json | undefined): ResponseCheck;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly schema: JsonObject;
}

/** Thrown when the description cannot be read or does not look like GitHub's. */
export class OpenApiDescriptionError extends Error {
  override name = 'OpenApiDescriptionError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Reads the description (once) and returns the validator. */
export async function createOpenApiValidator(options: { descriptionPath?: string } = {}): Promise<OpenApiValidator> {
  let document: JsonObject;
  try {
    const parsed = JSON.parse(await readFile(options.descriptionPath ?? restDescriptionPath, 'utf8')) as Json;
    if (!isJsonObject(parsed) || !isJsonObject(parsed.paths) || !isJsonObject(parsed.components)) {
      throw new OpenApiDescriptionError('not an OpenAPI document with paths and components');
    }
    document = parsed;
    applyOpenApiErrata(document);
  } catch (err) {
    if (err instanceof OpenApiDescriptionError) throw err;
    throw new OpenApiDescriptionError('could not read GitHub\'s REST description', { cause: err });
  }
  return openApiValidatorFor(document);
}

function openApiValidatorFor(document: JsonObject): OpenApiValidator {
  const paths = document.paths as JsonObject;
  const components = document.components as JsonObject;
  const routes = createRouteTable(paths, components);

  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
  addCachedFormats(ajv);
  // Formats GitHub's description uses that are not JSON Schema formats: annotations only.
  for (const format of ['int32', 'int64', 'binary', 'repo.nwo', 'ssh-key', 'uri-template', 'git-ref']) {
    ajv.addFormat(format, true);
  }
  const registry = createSchemaRegistry({
    ajv,
    schemas: isJsonObject(components.schemas) ? components.schemas : {},
    idPrefix: 'urn:github-rest:',
    convert: fromOpenApi30,
  });
  const compile = (key: string, schema: JsonObject) => registry.compile(key, schema);

  function operationOf(template: string, method: string): JsonObject | undefined {
    const item = paths[template];
    if (!isJsonObject(item)) return undefined;
    const op = item[method.toLowerCase()];
    return isJsonObject(op) ? op : undefined;
  }

  // Parameters of an operation never change: resolved once per operation, not per request.
  const parameterCache = new Map<string, Parameter[]>();
  function parametersOf(template: string, method: string): Parameter[] {
    const key = `${method} ${template}`;
    const cached = parameterCache.get(key);
    if (cached) return cached;
    const resolved = resolveParameters(template, method);
    parameterCache.set(key, resolved);
    return resolved;
  }

  function resolveParameters(template: string, method: string): Parameter[] {
    const item = paths[template] as JsonObject;
    const op = operationOf(template, method) as JsonObject;
    const all = [...asArray(item.parameters), ...asArray(op.parameters)];
    return all.map((p) => {
      const resolved = derefLocal(components, p);
      return {
        name: String(resolved.name),
        in: String(resolved.in),
        required: resolved.required === true,
        schema: isJsonObject(resolved.schema) ? resolved.schema : {},
      };
    });
  }

  return {
    match(method, pathname) {
      const best = routes.find(pathname);
      if (!best) return { kind: 'unknown-path' };
      const { entry, values } = best;
      const op = operationOf(entry.template, method);
      if (!op) return { kind: 'method-not-allowed', template: entry.template };
      const pathParams: Record<string, string> = {};
      entry.names.forEach((name, i) => {
        pathParams[name] = safeDecode(values[i] ?? '');
      });
      const docs = isJsonObject(op.externalDocs) && typeof op.externalDocs.url === 'string' ? op.externalDocs.url : 'https://docs.github.com/rest';
      return {
        kind: 'operation',
        operation: {
          operationId: String(op.operationId),
          method: method.toUpperCase(),
          template: entry.template,
          pathParams,
          documentationUrl: docs,
        },
      };
    },

    checkRequest(operation, parts) {
      const problems: string[] = [];
      let inPath = false;
      const params: Record<string, Json> = {};
      for (const parameter of parametersOf(operation.template, operation.method)) {
        if (parameter.in !== 'path' && parameter.in !== 'query') continue;
        const raw =
          parameter.in === 'path' ? operation.pathParams[parameter.name] : (parts.query.get(parameter.name) ?? undefined);
        if (raw === undefined) {
          if (parameter.required) problems.push(`"${parameter.name}" wasn't supplied.`);
          continue;
        }
        const value = coerce(raw, parameter.schema);
        const validate = compile(`${operation.operationId} ${parameter.in} ${parameter.name}`, parameter.schema);
        if (!validate(value)) {
          if (parameter.in === 'path') inPath = true;
          problems.push(...describeErrors(validate.errors ?? [], value, parameter.name));
        } else {
          params[parameter.name] = value;
        }
      }
      const op = operationOf(operation.template, operation.method) as JsonObject;
      const requestBody = isJsonObject(op.requestBody) ? derefLocal(components, op.requestBody) : undefined;
      const bodySchema = requestBody ? jsonContentSchema(requestBody) : undefined;
      // A required body that is missing is checked as `{}`, so the answer names the missing fields.
      const body = parts.body === undefined && requestBody?.required === true ? {} : parts.body;
      if (body !== undefined && bodySchema) {
        const validate = compile(`${operation.operationId} body`, bodySchema);
        if (!validate(body)) problems.push(...describeErrors(validate.errors ?? [], body));
      }
      return { params, problems, inPath };
    },

    checkResponse(operation, status, contentType, body) {
      const op = operationOf(operation.template, operation.method) as JsonObject;
      const responses = isJsonObject(op.responses) ? op.responses : {};
      const declared = responses[String(status)] ?? responses.default;
      let schema: JsonObject | undefined;
      if (declared !== undefined) {
        const response = derefLocal(components, declared);
        const content = isJsonObject(response.content) ? response.content : undefined;
        if (!content) {
          return { problems: body === undefined ? [] : [`status ${status} is declared without a body, but one was sent`] };
        }
        const mediaType = contentType.split(';')[0]?.trim() ?? '';
        const media = content[mediaType];
        if (!isJsonObject(media)) {
          return { problems: [`status ${status} does not declare media type ${mediaType} (declared: ${Object.keys(content).join(', ')})`] };
        }
        schema = isJsonObject(media.schema) ? media.schema : undefined;
      } else if ([401, 403, 404, 422, 429].includes(status)) {
        schema = { $ref: '#/components/schemas/basic-error' };
      } else {
        return { problems: [`status ${status} is not declared for ${operation.operationId}`] };
      }
      if (!schema) return { problems: [] };
      const validate = compile(`${operation.operationId} response ${status} ${contentType}`, schema);
      if (validate(body ?? null)) return { problems: [] };
      return { problems: (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} (${e.schemaPath})`) };
    },
  };
}


function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function jsonContentSchema(body: JsonObject): JsonObject | undefined {
  const content = isJsonObject(body.content) ? body.content : {};
  const media = content['application/json'];
  return isJsonObject(media) && isJsonObject(media.schema) ? media.schema : undefined;
}

/** OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a `null` type; annotations are dropped. */
function fromOpenApi30(node: Json): Json {
  if (Array.isArray(node)) return node.map(fromOpenApi30);
  if (!isJsonObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples' || key === 'nullable' || key === 'discriminator') continue;
    // Under `properties` the keys are property names, not keywords.
    out[key] = key === 'properties' && isJsonObject(value) ? mapValues(value, fromOpenApi30) : fromOpenApi30(value);
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

function mapValues(object: JsonObject, fn: (value: Json) => Json): JsonObject {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, fn(v)]));
}

/** Query and path values are strings on the wire; read them as their declared type. */
function coerce(raw: string, schema: JsonObject): Json {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if ((type === 'integer' || type === 'number') && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (type === 'array') return raw.split(',');
  return raw;
}
