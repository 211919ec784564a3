/**
 * How the double words a request that breaks GitHub's description: ajv's errors turned into the
 * lines GitHub's own 422 bodies carry.
 */
import type { ErrorObject } from 'ajv';
import { isJsonObject, type Json } from './json.ts';

/**
 * Words ajv errors like GitHub's schema errors, e.g. `"event_type" wasn't supplied.` and
 * `For 'properties/event_type', 42 is not a string.`
 */
export function describeErrors(errors: readonly ErrorObject[], data: Json, parameterName?: string): string[] {
  return errors
    .filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword) || errors.length === 1)
    .map((e) => {
      const where =
        parameterName ??
        (e.instancePath
          .split('/')
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? 'items' : `properties/${p}`))
          .join('/') || 'data');
      const value = valueAt(data, e.instancePath);
      switch (e.keyword) {
        case 'required': {
          const missing = String((e.params as { missingProperty?: string }).missingProperty);
          return `"${missing}" wasn't supplied.`;
        }
        case 'type':
          return `For '${where}', ${JSON.stringify(value)} is not ${article(String((e.params as { type?: string }).type))}.`;
        case 'additionalProperties':
          return `"${String((e.params as { additionalProperty?: string }).additionalProperty)}" is not a permitted key.`;
        case 'enum':
          return `For '${where}', ${JSON.stringify(value)} is not a member of ${JSON.stringify((e.params as { allowedValues?: Json }).allowedValues)}.`;
        default:
          return `For '${where}', ${JSON.stringify(value)} ${e.message ?? 'is invalid'}.`;
      }
    });
}

function article(type: string): string {
  const t = type.split(',')[0] ?? type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function valueAt(data: Json, pointer: string): Json | undefined {
  let node: Json | undefined = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isJsonObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}
