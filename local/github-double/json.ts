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
