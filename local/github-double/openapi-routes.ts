/**
 * The paths of GitHub's REST description as a route table: each path template compiled once into a
 * regex, and the templates filed by the shape of the paths they can match, so a request is tried
 * against the few templates of its shape rather than all ~800.
 */
import { isJsonObject, type JsonObject } from './json.ts';
import { asArray, derefLocal } from './openapi-refs.ts';

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface PathEntry {
  /** Position in the description: of two equally specific matches the first wins. */
  readonly index: number;
  readonly template: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  /** 1 for a literal segment, 0 for a parameter: literal segments win ties, as on GitHub. */
  readonly specificity: readonly number[];
  readonly segments: readonly string[];
  /** Whether a parameter may span several segments (`x-multi-segment`). */
  readonly multiSegment: boolean;
}

/** The best match of a concrete path: its template and the raw (still encoded) parameter values. */
export interface RouteFound {
  readonly entry: PathEntry;
  readonly values: readonly string[];
}

/** The route table of a description's `paths`. */
export function createRouteTable(paths: JsonObject, components: JsonObject) {
  const table = routeTable(indexPaths(paths, components));
  return {
    find(pathname: string): RouteFound | undefined {
      let best: RouteFound | undefined;
      for (const entry of table.candidates(pathname)) {
        const m = entry.regex.exec(pathname);
        if (!m) continue;
        if (!best || moreSpecific(entry, best.entry)) best = { entry, values: m.slice(1) };
      }
      return best;
    },
  };
}

/**
 * The paths by shape, so a request is tried against the few templates that could match it rather
 * than all ~800: a template without multi-segment parameters matches only paths with as many
 * segments, the same first segment and, when its last segment is literal, the same last one.
 * Templates that do not fit the table (multi-segment parameters, a parameter first) are always
 * tried. The candidates are a superset of the matches; each candidate's own regex decides.
 */
function routeTable(entries: readonly PathEntry[]) {
  const exact = new Map<string, PathEntry[]>();
  const anyLast = new Map<string, PathEntry[]>();
  const always: PathEntry[] = [];
  const add = (map: Map<string, PathEntry[]>, key: string, entry: PathEntry) => {
    const list = map.get(key);
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  for (const entry of entries) {
    const first = entry.segments[0] ?? '';
    const last = entry.segments.at(-1) ?? '';
    if (entry.multiSegment || first.includes('{')) always.push(entry);
    else if (entry.segments.length > 1 && !last.includes('{')) add(exact, `${entry.segments.length} ${first} ${last}`, entry);
    else add(anyLast, `${entry.segments.length} ${first}`, entry);
  }
  return {
    candidates(pathname: string): PathEntry[] {
      const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
      const segments = trimmed.split('/').slice(1);
      const shape = `${segments.length} ${segments[0] ?? ''}`;
      return [...(exact.get(`${shape} ${segments.at(-1) ?? ''}`) ?? []), ...(anyLast.get(shape) ?? []), ...always];
    },
  };
}

function indexPaths(paths: JsonObject, components: JsonObject): PathEntry[] {
  return Object.entries(paths).map(([template, item], index) => {
    const multiSegment = new Set<string>();
    if (isJsonObject(item)) {
      for (const method of methods) {
        const op = item[method];
        if (!isJsonObject(op)) continue;
        for (const p of asArray(op.parameters)) {
          const resolved = derefLocal(components, p);
          if (resolved['x-multi-segment'] === true) multiSegment.add(String(resolved.name));
        }
      }
    }
    const names: string[] = [];
    const specificity: number[] = [];
    const segments = template.split('/').slice(1);
    const pattern = segments
      .map((segment) => {
        const param = /^\{([^}]+)\}$/.exec(segment);
        if (!param) {
          specificity.push(1);
          // A segment may mix literal text and a parameter, e.g. `{base}...{head}`.
          return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
            names.push(name);
            return '([^/]+?)';
          });
        }
        const name = param[1] as string;
        names.push(name);
        specificity.push(0);
        return multiSegment.has(name) ? '(.+)' : '([^/]+)';
      })
      .join('/');
    const multi = names.some((name) => multiSegment.has(name));
    return { index, template, regex: new RegExp(`^/${pattern}/?$`), names, specificity, segments, multiSegment: multi };
  });
}

/** Whether `a` wins over `b`: more literal segments earlier, then first in the description. */
function moreSpecific(a: PathEntry, b: PathEntry): boolean {
  for (let i = 0; i < Math.max(a.specificity.length, b.specificity.length); i += 1) {
    const x = a.specificity[i] ?? -1;
    const y = b.specificity[i] ?? -1;
    if (x !== y) return x > y;
  }
  return a.index < b.index;
}
