/**
 * Route templates as Azure Functions reads them: literal segments, `{name}` parameters, optional
 * `{name?}` parameters (only meaningful at the end) and constraints such as `{id:int}` / `{*rest}`.
 * See https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint
 */

export type RouteParams = Record<string, string>;

interface Segment {
  readonly literal?: string;
  readonly param?: string;
  readonly optional?: boolean;
  readonly catchAll?: boolean;
  readonly constraint?: string;
}

export interface CompiledRoute {
  readonly template: string;
  match(path: string): RouteParams | undefined;
}

const constraintChecks: Record<string, (value: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v),
  long: (v) => /^-?\d+$/.test(v),
  alpha: (v) => /^[A-Za-z]+$/.test(v),
  guid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
};

function parseSegment(raw: string): Segment {
  const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(raw);
  if (!m) {
    if (raw.includes('{') || raw.includes('}')) throw new Error(`unsupported route segment "${raw}"`);
    return { literal: raw.toLowerCase() };
  }
  const [, star, name, constraint, optional] = m;
  if (constraint && !constraintChecks[constraint]) throw new Error(`unknown route constraint "${constraint}"`);
  return {
    param: name as string,
    optional: Boolean(optional) || Boolean(star),
    catchAll: Boolean(star),
    ...(constraint ? { constraint } : {}),
  };
}

/** Compiles a template once; `match` takes a path without the `/api/` prefix or query. */
export function compileRoute(template: string): CompiledRoute {
  const segments = template.split('/').filter(Boolean).map(parseSegment);
  return {
    template,
    match(path: string): RouteParams | undefined {
      const parts = path.split('/').filter(Boolean);
      const params: RouteParams = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i] as Segment;
        const part = parts[i];
        if (segment.catchAll) {
          if (parts.length > i) params[segment.param as string] = parts.slice(i).map(decodeURIComponent).join('/');
          return params;
        }
        if (part === undefined) {
          // Only trailing optional parameters may be absent.
          return segments.slice(i).every((s) => s.optional) ? params : undefined;
        }
        if (segment.literal !== undefined) {
          if (part.toLowerCase() !== segment.literal) return undefined;
          continue;
        }
        let value: string;
        try {
          value = decodeURIComponent(part);
        } catch {
          return undefined;
        }
        if (segment.constraint && !constraintChecks[segment.constraint]?.(value)) return undefined;
        params[segment.param as string] = value;
      }
      return parts.length === segments.length ? params : undefined;
    },
  };
}
