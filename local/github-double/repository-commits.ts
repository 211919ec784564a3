/**
 * Commits on a repository's default branch, one file each: write (add or modify) or delete a
 * UTF-8 text file, move the branch to a new commit, and send the `push` webhook GitHub sends for
 * it — to the main App, when an installation of it reaches the repository and subscribes to
 * `push` (https://docs.github.com/webhooks/webhook-events-and-payloads#push). `GET
 * /repos/{owner}/{repo}/contents/{path}` then serves the new content.
 */
import { createHash } from 'node:crypto';
import type { PayloadBuilders, WebhookEvent } from './payload-builders.ts';
import type { App, GitHubState } from './state.ts';
import type { WebhookDelivery } from './webhook-sender.ts';

export interface CommitFileInput {
  /** `owner/name`. */
  readonly repository: string;
  /** Path in the repository, e.g. `.github/zekt.yml`. */
  readonly path: string;
  /** The new content (UTF-8 text); `undefined` deletes the file. */
  readonly content: string | undefined;
  /** The commit message; `Update <path>` (or `Delete <path>`) by default. */
  readonly message?: string;
  /** Login of the pusher; the repository owner by default. */
  readonly author?: string;
}

export interface CommitResult {
  /** The new head of the default branch, and the previous one. */
  readonly sha: string;
  readonly before: string;
  readonly change: 'added' | 'modified' | 'removed';
  /** The `push` delivery, when one was sent. */
  readonly delivery: WebhookDelivery | undefined;
}

/** Thrown for a path that is not a plain relative file path. */
export class InvalidPathError extends Error {
  override name = 'InvalidPathError';
}

/** Thrown when deleting a file the branch does not have. */
export class FileNotFoundError extends Error {
  override name = 'FileNotFoundError';
}

export function createRepositoryCommits(deps: {
  state: GitHubState;
  payloads: PayloadBuilders;
  mainApp: () => App;
  send: (event: WebhookEvent) => Promise<WebhookDelivery>;
  now: () => number;
}): (input: CommitFileInput) => Promise<CommitResult> {
  let counter = 0;
  return async (input) => {
    const repository = deps.state.repository(input.repository);
    const path = normalisePath(input.path);
    const existing = repository.files.get(path);
    if (input.content === undefined && existing === undefined) throw new FileNotFoundError(`${input.repository} has no file ${path}`);
    const change = input.content === undefined ? 'removed' : existing === undefined ? 'added' : 'modified';
    const sender = input.author === undefined ? undefined : deps.state.user(input.author).login;
    const before = repository.headSha;
    const message = input.message ?? `${change === 'removed' ? 'Delete' : 'Update'} ${path}`;
    const sha = createHash('sha1').update(`commit ${before} ${++counter} ${deps.now()} ${path}\n${input.content ?? ''}`).digest('hex');
    const treeId = createHash('sha1').update(`tree ${sha}`).digest('hex');

    const installation = deps.state.installationFor(deps.mainApp(), repository);
    const push =
      installation && !installation.suspendedAt && installation.events.includes('push')
        ? deps.payloads.push({
            repository: input.repository,
            installationId: installation.id,
            before,
            after: sha,
            treeId,
            message,
            added: change === 'added' ? [path] : [],
            modified: change === 'modified' ? [path] : [],
            removed: change === 'removed' ? [path] : [],
            ...(sender ? { sender } : {}),
          })
        : undefined;

    if (input.content === undefined) repository.files.delete(path);
    else repository.files.set(path, input.content);
    repository.headSha = sha;
    const delivery = push ? await deps.send(push) : undefined;
    return { sha, before, change, delivery };
  };
}

/** `a/b.txt` from `/a/b.txt`; refuses empty paths, `.`/`..` segments and backslashes. */
export function normalisePath(raw: string): string {
  const path = raw.replace(/^\/+|\/+$/g, '');
  const segments = path.split('/');
  if (path === '' || raw.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidPathError(`"${raw}" is not a file path in a repository`);
  }
  return path;
}
