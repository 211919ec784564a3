/** Local `$ref`s of an OpenAPI document (`#/components/…`), for operations and their parts. */
import { isJsonObject, type Json, type JsonObject } from './json.ts';

export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

function resolvePointer(root: JsonObject, segments: readonly string[]): Json | undefined {
  let node: Json | undefined = root;
  for (const segment of segments) {
    if (!isJsonObject(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/** Follows an operation-level `$ref` (`#/components/parameters|responses|requestBodies/…`). */
export function derefLocal(components: JsonObject, node: Json): JsonObject {
  let current = node;
  for (let depth = 0; depth < 10 && isJsonObject(current) && typeof current.$ref === 'string'; depth += 1) {
    const segments = current.$ref.replace(/^#\/components\//, '').split('/');
    current = resolvePointer(components, segments) ?? {};
  }
  return isJsonObject(current) ? current : {};
}
