/** JSON values as they travel over the wire; the double parses and builds nothing else. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy (examples from `@octokit/webhooks-examples` are shared; builders must not mutate them). */
export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}

/**
 * A deep copy of plain JSON, much cheaper than `structuredClone` for the double's payloads; `fn`
 * rewrites the strings that `rewrite` holds (the others are copied as they are).
 */
export function copyJson(value: Json, rewrite?: { readonly strings: ReadonlySet<string>; readonly fn: (s: string) => string }): Json {
  if (typeof value === 'string') return rewrite?.strings.has(value) ? rewrite.fn(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => copyJson(item, rewrite));
  const out: JsonObject = {};
  for (const key of Object.keys(value)) out[key] = copyJson(value[key] as Json, rewrite);
  return out;
}

/** A copy of `object` without deep-copying the values of `replaced` (null, for the caller to set; the order of keys stays). */
export function copyJsonExcept(object: JsonObject, replaced: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(object)) out[key] = replaced.includes(key) ? null : copyJson(object[key] as Json);
  return out;
}

/** Freezes a JSON value and everything in it, so a shared one cannot be changed by accident. */
export function deepFreeze<T extends Json>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
