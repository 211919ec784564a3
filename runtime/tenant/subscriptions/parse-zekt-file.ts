/**
 * Parses and validates one `.github/zekt.yml` against the published JSON Schema
 * (`schemas/zekt.schema.json`), so that every error a repository's author sees has a line and a
 * column. YAML is parsed with the `yaml` package and a `LineCounter`; Ajv reports each error at a
 * JSON pointer (`instancePath`), which is walked back to the YAML node it came from.
 * Knows nothing of GitHub or storage: text in, a typed file or positioned errors out.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isMap, isNode, isPair, isScalar, parseDocument, type Document, type Node } from 'yaml';
import schema from '../../../schemas/zekt.schema.json' with { type: 'json' };

/** One problem of a file, where its author can find it (1-based line and column). */
export interface FileError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** JSON pointer of the offending value (`/subscriptions/0/provider`); empty for the whole file. */
  readonly path: string;
}

export interface ZektFileSubscription {
  readonly provider: string;
  readonly workflows?: readonly string[];
  readonly conclusions?: readonly string[];
  readonly branches?: readonly string[];
  readonly event_type?: string;
}

/** The file as its author wrote it (names, not ids; defaults not yet applied). */
export interface ZektFile {
  readonly subscriptions?: readonly ZektFileSubscription[];
  readonly publish?: { readonly consumers?: readonly string[]; readonly settled_report?: boolean };
}

export type ParsedZektFile =
  | { readonly ok: true; readonly file: ZektFile; readonly positionOf: (path: readonly (string | number)[]) => { line: number; column: number } }
  | { readonly ok: false; readonly errors: readonly FileError[] };

/** GitHub serves files up to 1 MB through the contents API; a subscriptions file is a few lines. */
export const maxZektFileBytes = 64 * 1024;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<ZektFile>(schema);

export function parseZektFile(text: string): ParsedZektFile {
  if (Buffer.byteLength(text) > maxZektFileBytes) {
    return { ok: false, errors: [{ line: 1, column: 1, path: '', message: `the file is larger than ${maxZektFileBytes / 1024} KB` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: e.message.split('\n')[0] ?? e.message })) };
  }
  // A file of comments only says nothing: no subscriptions, no publish policy.
  const value: unknown = doc.contents === null ? {} : doc.toJS({ maxAliasCount: 50 });
  const positionOf = (path: readonly (string | number)[]) => at(nodeAt(doc, path)?.range?.[0] ?? 0);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).map((e) => toFileError(e, doc, at));
    // allErrors reports `oneOf`/`$ref` failures once per branch; one line per distinct problem is enough.
    const seen = new Set<string>();
    return { ok: false, errors: errors.filter((e) => !seen.has(`${e.line}:${e.column}:${e.message}`) && seen.add(`${e.line}:${e.column}:${e.message}`)) };
  }
  return { ok: true, file: value, positionOf };
}

/** The YAML node at a JSON path, or the deepest one on the way there. */
function nodeAt(doc: Document, path: readonly (string | number)[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const segment of path) {
    const next = isNode(node) && 'get' in node ? (node as { get(key: unknown, keep: true): unknown }).get(segment, true) : undefined;
    if (!isNode(next)) break;
    node = next;
  }
  return isNode(node) ? node : undefined;
}

function segments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function toFileError(e: ErrorObject, doc: Document, at: (offset: number) => { line: number; column: number }): FileError {
  const path = segments(e.instancePath);
  let node = nodeAt(doc, path);
  const where = e.instancePath || 'the file';
  let message: string;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      // Point at the unknown key itself, not at the map holding it.
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        if (pair && isNode(pair.key)) node = pair.key;
      }
      message = `${where}: "${key}" is not a known key`;
      break;
    }
    case 'required':
      message = `${where}: "${String((e.params as { missingProperty: string }).missingProperty)}" is required`;
      break;
    case 'enum':
      message = `${where}: must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).join(', ')}`;
      break;
    case 'pattern':
      message = `${where}: must be a repository as owner/repo`;
      break;
    default:
      message = `${where}: ${e.message ?? 'is not valid'}`;
  }
  return { ...at(node?.range?.[0] ?? 0), path: e.instancePath, message };
}
