/**
 * The `push` payload (https://docs.github.com/webhooks/webhook-events-and-payloads#push) of one
 * commit on a branch, from GitHub's newest branch-push example: `ref`, `before`/`after`, `compare`,
 * `commits` with the files `added`, `modified` and `removed`, `head_commit`, `pusher` and
 * `repository` (which, in push payloads alone, carries `created_at` and `pushed_at` as Unix seconds
 * and `default_branch`, `master_branch` and `stargazers`).
 */
import { cloneJson, isJsonObject, type JsonObject } from './json.ts';
import { definitionOf, MissingExampleError, nodeIdFor, type PayloadContext, type PayloadHelpers } from './example-payloads.ts';
import type { PushInput, WebhookEvent } from './payload-builders.ts';

export function createPushPayload(context: PayloadContext, helpers: PayloadHelpers) {
  const { state, urls } = context;
  const { rebase, user, repositoryFrom, installationOf, senderFor, withOrganization, timestamp } = helpers;

  return function push(input: PushInput): WebhookEvent {
    // The newest example of a push to a branch (the others push or delete tags).
    const example = definitionOf('push').examples.findLast((e) => typeof e.ref === 'string' && e.ref.startsWith('refs/heads/') && Array.isArray(e.commits) && e.commits.length > 0);
    if (!example) throw new MissingExampleError('push', 'branch');
    const ex = cloneJson(example);
    const repository = state.repository(input.repository);
    const installation = installationOf(repository, input.installationId);
    const sender = senderFor(input.sender, repository.owner);
    const full = `${repository.owner.login}/${repository.name}`;
    const branch = input.branch ?? repository.defaultBranch;
    const at = timestamp();
    // Rebased parts come from the package's own example (prepared once per repository), the rest from the copy.
    const exCommits = Array.isArray(example.commits) ? example.commits : [];
    const exCommit = isJsonObject(exCommits[0]) ? exCommits[0] : {};
    const identity = { name: sender.login, email: `${sender.id}+${sender.login}@users.noreply.${new URL(urls.web).hostname}`, username: sender.login };
    const commit: JsonObject = {
      ...(rebase(exCommit, { owner: repository.owner.login, full }) as JsonObject),
      id: input.after,
      tree_id: input.treeId,
      distinct: true,
      message: input.message,
      timestamp: at,
      url: `${urls.web}/${full}/commit/${input.after}`,
      author: identity,
      committer: identity,
      added: [...input.added],
      removed: [...input.removed],
      modified: [...input.modified],
    };
    const exRepository = isJsonObject(example.repository) ? example.repository : {};
    const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    const payload: JsonObject = {
      ...ex,
      ref: `refs/heads/${branch}`,
      before: input.before,
      after: input.after,
      created: false,
      deleted: false,
      forced: false,
      base_ref: null,
      compare: `${urls.web}/${full}/compare/${input.before.slice(0, 12)}...${input.after.slice(0, 12)}`,
      commits: [commit],
      head_commit: commit,
      repository: {
        ...repositoryFrom(exRepository, repository),
        created_at: seconds(repository.createdAt),
        pushed_at: seconds(at),
        default_branch: repository.defaultBranch,
        master_branch: repository.defaultBranch,
        // Newer than the example, required by the schema.
        has_discussions: false,
      },
      pusher: { name: sender.login, email: identity.email },
      sender: user(ex.sender, sender),
      installation: { id: installation.id, node_id: nodeIdFor('I', installation.id) },
    };
    withOrganization(payload, ex, repository.owner);
    return { event: 'push', payload };
  };
}
