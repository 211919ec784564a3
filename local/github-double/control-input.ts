/**
 * Reading the control API's input: JSON bodies, and the fields its calls take, each checked with
 * GitHub's own rules where GitHub has them; a field that breaks them is a `ControlInputError`
 * naming it (→ 400).
 */
import type { DoubleRequest } from './http-exchange.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';

/** A body or query that is not what the call takes. → 400 */
export class ControlInputError extends Error {
  override name = 'ControlInputError';
}

// GitHub's rules: logins are letters, digits and single inner hyphens, at most 39 characters;
// repository names letters, digits, `.`, `-` and `_`, at most 100.
export const loginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
export const repositoryNamePattern = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
export function bodyOf(request: DoubleRequest, optional = false): JsonObject {
  if (request.body.length === 0) {
    if (optional) return {};
    throw new ControlInputError('the body must be a JSON object');
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(request.body.toString('utf8')) as Json;
  } catch {
    throw new ControlInputError('the body is not JSON');
  }
  if (!isJsonObject(parsed)) throw new ControlInputError('the body must be a JSON object');
  return parsed;
}

export function text(body: JsonObject, key: string, options: { empty?: boolean } = {}): string {
  const value = body[key];
  if (typeof value !== 'string' || (!options.empty && value.trim() === '')) throw new ControlInputError(`${key} must be a${options.empty ? '' : ' non-empty'} string`);
  return value;
}

export function optionalText<K extends string>(body: JsonObject, key: K): { [P in K]?: string } {
  if (body[key] === undefined || body[key] === null) return {};
  return { [key]: text(body, key) } as { [P in K]?: string };
}

export function optionalLogin<K extends string>(body: JsonObject, key: K): { [P in K]?: string } {
  const value = optionalText(body, key);
  if (value[key] !== undefined && !loginPattern.test(value[key] as string)) throw new ControlInputError(`${key} "${value[key]}" is not a GitHub login`);
  return value;
}

export function loginOf(body: JsonObject, key: string): string {
  const login = text(body, key);
  if (!loginPattern.test(login)) throw new ControlInputError(`${key} "${login}" is not a GitHub login (letters, digits and single hyphens, at most 39)`);
  return login;
}

export function logins(body: JsonObject, key: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && loginPattern.test(v))) throw new ControlInputError(`${key} must be a list of logins`);
  return value as string[];
}

export function optionalStrings(body: JsonObject, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new ControlInputError(`${key} must be a list of strings`);
  return value as string[];
}

export function headSha(body: JsonObject): { headSha?: string } {
  const value = optionalText(body, 'headSha').headSha;
  if (value === undefined) return {};
  if (!/^[0-9a-f]{40}$/.test(value)) throw new ControlInputError('headSha must be 40 lowercase hex digits');
  return { headSha: value };
}

export function workflowFile(workflow: string): string {
  const path = workflow.replace(/^\/+/, '');
  const file = path.split('/').at(-1) ?? '';
  if (!/\.ya?ml$/.test(file) || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ControlInputError(`workflow must be a workflow file (release.yml or .github/workflows/release.yml), not "${workflow}"`);
  }
  return path;
}

export function wholeNumber(raw: string | undefined, what: string): number {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) throw new ControlInputError(`${what} must be a whole number`);
  return Number(raw);
}

