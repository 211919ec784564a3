/**
 * The ingress keeps a `push` only when it can change a tenant's subscriptions: a push to the
 * repository's default branch whose commits add, change or remove `.github/zekt.yml`. Every other
 * push is recorded as ignored and never forwarded (the App receives every push of the repositories
 * it is installed on; a tenant needs almost none of them).
 */

export const zektFilePath = '.github/zekt.yml';

/**
 * GitHub's push payload lists at most 2,048 commits
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#push): at the cap the list may be
 * cut, so the push is kept — one extra sync is cheap, a missed one is not.
 */
const commitListCap = 2048;

interface PushCommit {
  added?: unknown;
  modified?: unknown;
  removed?: unknown;
}
interface PushPayload {
  ref?: unknown;
  deleted?: unknown;
  repository?: { default_branch?: unknown };
  commits?: unknown;
  head_commit?: PushCommit | null;
}

const touches = (c: PushCommit | null | undefined) =>
  [c?.added, c?.modified, c?.removed].some((paths) => Array.isArray(paths) && paths.includes(zektFilePath));

export function pushTouchesZektFile(payload: unknown): boolean {
  const p = payload as PushPayload;
  const branch = p.repository?.default_branch;
  if (typeof branch !== 'string' || p.ref !== `refs/heads/${branch}` || p.deleted === true) return false;
  const commits = Array.isArray(p.commits) ? (p.commits as PushCommit[]) : [];
  return commits.length >= commitListCap || commits.some(touches) || touches(p.head_commit);
}
