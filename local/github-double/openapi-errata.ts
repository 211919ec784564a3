/**
 * Known mistakes in GitHub's REST description that real GitHub responses break too. Each one is
 * fixed narrowly, by path, where it is found; an entry whose target no longer looks as described
 * (GitHub fixed it) is skipped, so a stale erratum can never loosen a correct schema.
 */
import { isJsonObject, type JsonObject } from './json.ts';

interface Erratum {
  /** Path segments from the document root to the schema to fix. */
  readonly at: readonly string[];
  readonly why: string;
  /** Returns the fixed schema, or undefined when the schema no longer has the mistake. */
  fix(schema: JsonObject): JsonObject | undefined;
}

export const openApiErrata: readonly Erratum[] = [
  {
    at: ['paths', '/app/installations', 'get', 'responses', '200', 'content', 'application/json', 'schema', 'items', 'properties', 'account'],
    why:
      'The account of `GET /app/installations` items is described as `allOf: [Simple User, Enterprise]`; ' +
      'an account is one or the other (as in the `installation` component, which says `anyOf`), ' +
      'and no real user account has the enterprise-only required fields (`slug`, `name`, …).',
    fix(schema) {
      if (!Array.isArray(schema.allOf) || schema.allOf.length !== 2 || 'anyOf' in schema) return undefined;
      const { allOf, ...rest } = schema;
      return { ...rest, anyOf: allOf };
    },
  },
];

/** Applies the errata to a parsed description in place; returns the ones that applied. */
export function applyOpenApiErrata(document: JsonObject): Erratum[] {
  const applied: Erratum[] = [];
  for (const erratum of openApiErrata) {
    const parentPath = erratum.at.slice(0, -1);
    const key = erratum.at.at(-1) as string;
    let parent: JsonObject | undefined = document;
    for (const segment of parentPath) {
      const next: JsonObject[string] | undefined = parent?.[segment];
      parent = isJsonObject(next) ? next : undefined;
    }
    const target = parent?.[key];
    if (!parent || !isJsonObject(target)) continue;
    const fixed = erratum.fix(target);
    if (!fixed) continue;
    parent[key] = fixed;
    applied.push(erratum);
  }
  return applied;
}
