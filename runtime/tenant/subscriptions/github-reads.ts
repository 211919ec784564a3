/**
 * The two GitHub reads of a subscriptions sync, each with a token the broker minted for exactly
 * that call: the repositories of one installation (`GET /installation/repositories`, purpose
 * `repositories`) and one repository's `.github/zekt.yml` (`GET /repos/{owner}/{repo}/contents/…`,
 * purpose `subscriptions`: the App's single-file permission, on that one repository).
 */
import type { RepositoryRef } from './subscription-index.ts';

export const zektFilePath = '.github/zekt.yml';

/** GitHub answered something other than the expected success or a plain 404. */
export class GitHubReadError extends Error {
  override name = 'GitHubReadError';
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface GitHubReadsOptions {
  /** REST API base URL (`https://api.github.com`). */
  readonly apiUrl: string;
  readonly fetch?: typeof fetch;
  /** Per request, in ms. */
  readonly timeoutMs?: number;
}

export function createGitHubReads(options: GitHubReadsOptions) {
  const base = options.apiUrl.replace(/\/$/, '');
  const get = (path: string, token: string) =>
    (options.fetch ?? fetch)(`${base}${path}`, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${token}`,
        'user-agent': 'Zekt',
        'x-github-api-version': '2022-11-28',
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: 'error',
    });

  return {
    /** Every repository the installation's token reaches (pages of 100). */
    async installationRepositories(token: string): Promise<RepositoryRef[]> {
      const found: RepositoryRef[] = [];
      for (let page = 1; ; page++) {
        const res = await get(`/installation/repositories?per_page=100&page=${page}`, token);
        if (res.status !== 200) throw new GitHubReadError(res.status, `listing the installation's repositories answered ${res.status}`);
        const body = (await res.json()) as { total_count: number; repositories: { id: number; full_name: string }[] };
        found.push(...body.repositories.map((r) => ({ id: r.id, fullName: r.full_name })));
        if (body.repositories.length < 100 || found.length >= body.total_count) return found;
      }
    },

    /** The file's text and blob sha, or undefined when the repository has none. */
    async zektFile(repository: RepositoryRef, token: string): Promise<{ text: string; sha: string } | undefined> {
      const [owner, repo] = repository.fullName.split('/') as [string, string];
      const res = await get(`/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/contents/${zektFilePath}`, token);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new GitHubReadError(res.status, `reading ${zektFilePath} of ${repository.fullName} answered ${res.status}`);
      const body = (await res.json()) as { type?: string; encoding?: string; content?: string; sha?: string };
      if (body.type !== 'file' || body.encoding !== 'base64' || typeof body.content !== 'string') {
        throw new GitHubReadError(res.status, `${zektFilePath} of ${repository.fullName} is not a file`);
      }
      return { text: Buffer.from(body.content, 'base64').toString('utf8'), sha: body.sha ?? '' };
    },
  };
}

export type GitHubReads = ReturnType<typeof createGitHubReads>;
