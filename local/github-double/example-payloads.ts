/**
 * What every webhook builder shares: GitHub's real examples (`@octokit/webhooks-examples`, newest
 * first), and the helpers that turn an example into the double's world — URLs pointed at the
 * double, repositories, accounts and installations named from the state. Builders never invent a
 * shape; the sender checks each payload against GitHub's webhook schemas before it leaves.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { copyJson, deepFreeze, isJsonObject, type Json, type JsonObject } from './json.ts';
import type { Representations, Urls } from './representations.ts';
import type { Account, App, GitHubState, Installation, Repository } from './state.ts';

const require = createRequire(import.meta.url);

interface ExampleDefinition {
  readonly name: string;
  readonly examples: readonly JsonObject[];
}

const definitions = require('@octokit/webhooks-examples') as readonly ExampleDefinition[];

/** Thrown when the examples package has no example for an event and action. */
export class MissingExampleError extends Error {
  override name = 'MissingExampleError';
  constructor(
    readonly event: string,
    readonly action: string | undefined,
  ) {
    super(`@octokit/webhooks-examples has no ${event}${action ? `.${action}` : ''} example`);
  }
}

export interface PayloadContext {
  readonly state: GitHubState;
  readonly urls: Urls;
  readonly representations: Representations;
  readonly now: () => number;
  readonly mainApp: () => App;
}

export type PayloadHelpers = ReturnType<typeof createPayloadHelpers>;

/** Whom an example is renamed to: an owner, and with `full` (`owner/repo`) a repository. */
export interface RebaseTarget {
  readonly owner: string;
  readonly full?: string;
}

interface Prepared {
  readonly rebased: Json;
  /** Per set of `rebaseAndRewrite` needles, the strings of `rebased` that contain one. */
  readonly picked: Map<string, ReadonlySet<string>>;
}

export function createPayloadHelpers(options: PayloadContext) {
  const { state, urls, representations: rep, now } = options;
  const host = new URL(urls.web).host;
  const timestamp = () => new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const preparedCache = new WeakMap<object, Map<string, Prepared>>();

  /**
   * Points every GitHub URL of an example at the double, renaming each repository (and owner) the
   * URLs name into `to`. Examples are not always self-consistent (a job of one repository with
   * URLs of another), so the names are read from the URLs themselves. Returns a fresh copy the
   * caller may change.
   */
  function rebase(value: Json, to: RebaseTarget): Json {
    return copyJson(prepared(value, to).rebased);
  }

  /**
   * Like `rebase`, then `fn` applied to the strings that contain one of `needles` (the ones naming
   * an example's own run, job or workflow ids; `fn` must leave every other string as it is). Which
   * strings those are is worked out once per example and target, so a payload costs a copy, not a
   * walk with every pattern over every string.
   */
  function rebaseAndRewrite(value: Json, to: RebaseTarget, needles: readonly string[], fn: (s: string) => string): Json {
    const entry = prepared(value, to);
    const key = needles.join('\0');
    let strings = entry.picked.get(key);
    if (!strings) {
      const found = new Set<string>();
      collectStrings(entry.rebased, (s) => needles.some((needle) => s.includes(needle)), found);
      entry.picked.set(key, found);
      strings = found;
    }
    return copyJson(entry.rebased, { strings, fn });
  }

  /**
   * The rebased example, computed once per example object and target and frozen. The examples are
   * the package's shared, never-changing objects and a double's URLs are fixed, so the answer
   * for one (example, owner, repository) cannot change; entries go with their example.
   */
  function prepared(value: Json, to: RebaseTarget): Prepared {
    const key = `${to.owner}\n${to.full ?? ''}`;
    const holder = typeof value === 'object' && value !== null ? value : undefined;
    const byTarget = holder ? preparedCache.get(holder) : undefined;
    const cached = byTarget?.get(key);
    if (cached) return cached;
    const entry: Prepared = { rebased: deepFreeze(rebaseOnce(value, to)), picked: new Map() };
    if (holder) {
      if (byTarget) byTarget.set(key, entry);
      else preparedCache.set(holder, new Map([[key, entry]]));
    }
    return entry;
  }

  function rebaseOnce(value: Json, to: RebaseTarget): Json {
    const { fulls, owners } = namesIn(value);
    const pairs: [RegExp, string][] = [];
    if (to.full) {
      for (const full of fulls) {
        pairs.push(
          [new RegExp(`https://api\\.github\\.com/repos/${escape(full)}(?=$|[/?{#])`, 'g'), `${urls.api}/repos/${to.full}`],
          [new RegExp(`https://github\\.com/${escape(full)}(?=$|[/?{#.])`, 'g'), `${urls.web}/${to.full}`],
          [new RegExp(`git://github\\.com/${escape(full)}\\.git`, 'g'), `git://${host}/${to.full}.git`],
          [new RegExp(`git@github\\.com:${escape(full)}\\.git`, 'g'), `git@${host}:${to.full}.git`],
        );
      }
    }
    for (const owner of owners) {
      pairs.push(
        [new RegExp(`https://api\\.github\\.com/(users|orgs)/${escape(owner)}(?=$|[/?{#])`, 'g'), `${urls.api}/$1/${to.owner}`],
        [new RegExp(`https://github\\.com/${escape(owner)}(?=$|[/?{#])`, 'g'), `${urls.web}/${to.owner}`],
      );
    }
    pairs.push([/https:\/\/api\.github\.com/g, urls.api], [/https:\/\/github\.com/g, urls.web]);
    return mapStrings(value, (s) => pairs.reduce((acc, [re, replacement]) => acc.replace(re, replacement), s));
  }

  function user(example: Json | undefined, account: Account): JsonObject {
    return { ...(isJsonObject(example) ? example : {}), ...rep.simpleUser(account) };
  }

  /** The example's repository object, renamed to `repository`. */
  function repositoryFrom(example: Json | undefined, repository: Repository): JsonObject {
    const ex = isJsonObject(example) ? example : {};
    const full = `${repository.owner.login}/${repository.name}`;
    // The prepared (frozen) rebase is read, not copied: most of its fields are replaced below.
    const rebased = prepared(ex, { owner: repository.owner.login, full }).rebased as JsonObject;
    const base = rep.repository(repository);
    const out: JsonObject = {};
    // Only the fields the example has: webhook repositories come in several sizes.
    for (const key of Object.keys(rebased)) {
      if (key === 'owner') out.owner = user(rebased.owner, repository.owner);
      else out[key] = key in base ? (base[key] as Json) : copyJson(rebased[key] as Json);
    }
    return out;
  }

  function installationOf(repository: Repository, installationId: number | undefined): Installation {
    if (installationId !== undefined) return state.installation(installationId);
    const found = state.installationFor(options.mainApp(), repository);
    if (!found) throw new Error(`no installation of the main App reaches ${repository.owner.login}/${repository.name}; pass installationId`);
    return found;
  }

  function senderFor(login: string | undefined, fallback: Account): Account {
    return login ? state.account(login, 'User') : fallback;
  }

  function organizationOf(example: JsonObject, account: Account): JsonObject | undefined {
    if (account.type !== 'Organization') return undefined;
    // Some examples come from user-owned repositories; their organisation comes from one that has it.
    const ex = isJsonObject(example.organization) ? example.organization : referenceOrganization();
    return { ...(rebase(ex, { owner: account.login }) as JsonObject), login: account.login, id: account.id, node_id: account.nodeId };
  }

  /** Sets or removes `organization` (GitHub includes it for organisation-owned repositories only). */
  function withOrganization(payload: JsonObject, example: JsonObject, account: Account): void {
    const org = organizationOf(example, account);
    if (org) payload.organization = org;
    else delete payload.organization;
  }

  /** Who GitHub names as the sender of an installation's events: its installer when known. */
  function defaultSender(installation: Installation): Account {
    if (installation.installer) return installation.installer;
    if (installation.account.type === 'User') return installation.account;
    const member = [...state.users.values()].find((u) => u.organizations.has(installation.account.login.toLowerCase()));
    return member ?? installation.account;
  }

  function liteRepository(repository: Repository): JsonObject {
    return {
      id: repository.id,
      node_id: repository.nodeId,
      name: repository.name,
      full_name: `${repository.owner.login}/${repository.name}`,
      private: repository.private,
    };
  }

  return { timestamp, rebase, rebaseAndRewrite, user, repositoryFrom, installationOf, senderFor, withOrganization, defaultSender, liteRepository };
}

/** The `organization` object of the newest `workflow_run` example, for examples without one. */
function referenceOrganization(): JsonObject {
  const example = definitionOf('workflow_run').examples.findLast((e) => isJsonObject(e.organization));
  if (!example || !isJsonObject(example.organization)) throw new MissingExampleError('workflow_run', 'organization');
  return deepFreeze(example.organization);
}

export function definitionOf(event: string): ExampleDefinition {
  const definition = definitions.find((d) => d.name === event);
  if (!definition) throw new MissingExampleError(event, undefined);
  return definition;
}

/**
 * The newest example (examples are appended over time) of an event and action: the package's own
 * object, frozen (builders copy what they keep), so the prepared rebases keyed on it stay valid.
 */
export function exampleFor(event: string, action: string): JsonObject {
  const example = definitionOf(event).examples.filter((e) => e.action === action).at(-1);
  if (!example) throw new MissingExampleError(event, action);
  return deepFreeze(example);
}

/** The `owner/repo` names and owner logins that an example's GitHub URLs mention. */
function namesIn(value: Json): { fulls: string[]; owners: string[] } {
  const fulls = new Set<string>();
  const owners = new Set<string>();
  mapStrings(value, (s) => {
    for (const m of s.matchAll(/https:\/\/api\.github\.com\/repos\/([\w.-]+)\/([\w.-]+)/g)) fulls.add(`${m[1]}/${m[2]}`);
    for (const m of s.matchAll(/https:\/\/api\.github\.com\/(?:users|orgs)\/([\w.-]+)/g)) owners.add(m[1] as string);
    return s;
  });
  for (const full of fulls) owners.add(full.split('/')[0] as string);
  // Longest first, so `octo-org/octo-repo` is renamed before a shorter name it contains.
  const byLength = (a: string, b: string) => b.length - a.length;
  return { fulls: [...fulls].sort(byLength), owners: [...owners].sort(byLength) };
}

export function mapStrings(value: Json, fn: (s: string) => string): Json {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

function collectStrings(value: Json, pick: (s: string) => boolean, into: Set<string>): void {
  if (typeof value === 'string') {
    if (pick(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, pick, into);
  } else if (isJsonObject(value)) {
    for (const item of Object.values(value)) collectStrings(item, pick, into);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** A positive id derived from a name, so repeated builds agree. */
export function stableId(text: string): number {
  return parseInt(sha1(text).slice(0, 8), 16) % 90_000_000 + 10_000_000;
}

export function nodeIdFor(kind: string, id: number): string {
  return Buffer.from(`0${kind}:${id}`).toString('base64');
}
