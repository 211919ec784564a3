/**
 * Lazy ajv compilation over a large OpenAPI document: a schema is compiled the first time it is
 * needed, and each `#/components/schemas/<name>` it reaches is registered with ajv once, under an
 * id of its own, so ajv resolves references (and their cycles) itself. Nothing of the document is
 * compiled up front, which keeps the double's start-up short.
 */
import type { Ajv, ValidateFunction } from 'ajv';
import { isJsonObject, type Json, type JsonObject } from './json.ts';

export interface SchemaRegistry {
  /** The compiled validator for `schema`, cached under `key`. */
  compile(key: string, schema: JsonObject): ValidateFunction;
}

/** Thrown when a schema names a component the document does not have. */
export class MissingComponentError extends Error {
  override name = 'MissingComponentError';
  constructor(readonly component: string) {
    super(`the description has no component schema "${component}"`);
  }
}

export function createSchemaRegistry(options: {
  ajv: Ajv;
  /** `components.schemas` of the document. */
  schemas: JsonObject;
  /** Prefix of the ids components are registered under (a URN, never fetched). */
  idPrefix: string;
  /** Dialect conversion applied to each schema before ajv sees it (refs are rewritten after). */
  convert?: (schema: Json) => Json;
}): SchemaRegistry {
  const { ajv, schemas, idPrefix } = options;
  const convert = options.convert ?? ((schema: Json) => schema);
  const registered = new Set<string>();
  const compiled = new Map<string, ValidateFunction>();

  function prepare(schema: Json): Json {
    return rewriteRefs(convert(schema), idPrefix);
  }

  function registerReferenced(schema: Json): void {
    const pending = collectRefs(schema, idPrefix);
    while (pending.length > 0) {
      const name = pending.pop() as string;
      if (registered.has(name)) continue;
      registered.add(name);
      const component = schemas[name];
      if (!isJsonObject(component)) throw new MissingComponentError(name);
      const prepared = prepare(component);
      ajv.addSchema(prepared as object, `${idPrefix}${name}`);
      pending.push(...collectRefs(prepared, idPrefix));
    }
  }

  return {
    compile(key, schema) {
      const cached = compiled.get(key);
      if (cached) return cached;
      const prepared = prepare(schema);
      registerReferenced(prepared);
      const validate = ajv.compile(prepared as object);
      compiled.set(key, validate);
      return validate;
    },
  };
}

function rewriteRefs(node: Json, idPrefix: string): Json {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, idPrefix));
  if (!isJsonObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')
        ? `${idPrefix}${value.slice('#/components/schemas/'.length)}`
        : rewriteRefs(value, idPrefix);
  }
  return out;
}

function collectRefs(node: Json, idPrefix: string, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, idPrefix, found);
  } else if (isJsonObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(idPrefix)) found.push(value.slice(idPrefix.length));
      else collectRefs(value, idPrefix, found);
    }
  }
  return found;
}
