/**
 * ajv-formats' full string formats, remembered per string. The double checks the same URLs and
 * timestamps over and over (every payload of a repository carries the same ~100 URLs), and the
 * full `uri` check is a long regex; a format's answer depends on the string alone, so a remembered
 * answer is the same check. The memory is bounded: it starts over when full.
 */
import type { Ajv, Format } from 'ajv';
import ajvFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';

const remembered = ['uri', 'uri-reference', 'uri-template', 'date-time', 'email'] as const;
const maxEntries = 20_000;

export function addCachedFormats(ajv: Ajv): void {
  ajvFormats.default(ajv);
  for (const name of remembered) ajv.addFormat(name, remember(fullFormats[name]));
}

function remember(format: Format): Format {
  const test = testOf(format);
  const answers = new Map<string, boolean>();
  const validate = (value: string): boolean => {
    const known = answers.get(value);
    if (known !== undefined) return known;
    if (answers.size >= maxEntries) answers.clear();
    const answer = test(value);
    answers.set(value, answer);
    return answer;
  };
  if (typeof format === 'object' && !(format instanceof RegExp) && 'compare' in format && format.compare) {
    return { type: 'string', validate, compare: format.compare } as Format;
  }
  return validate;
}

function testOf(format: Format): (value: string) => boolean {
  if (format === true) return () => true;
  if (typeof format === 'string') return (value) => new RegExp(format).test(value);
  if (format instanceof RegExp) return (value) => format.test(value);
  if (typeof format === 'function') return (value) => Boolean(format(value));
  const inner = format.validate;
  if (inner instanceof RegExp) return (value) => inner.test(value);
  if (typeof inner === 'string') return (value) => new RegExp(inner).test(value);
  return (value) => Boolean((inner as (v: string) => boolean | Promise<unknown>)(value));
}
