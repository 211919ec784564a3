/**
 * The REST operations Zekt calls with an installation token: list the installation's
 * repositories, read a file (`.github/zekt.yml`), and send a `repository_dispatch`. Each checks
 * the token's reach the way GitHub does: a repository outside the token is 404 (GitHub does not
 * reveal it exists), a repository inside it without the needed permission is 403
 * `Resource not accessible by integration`.
 * Permissions: https://docs.github.com/rest/authentication/permissions-required-for-github-apps
 */
import { createHash } from 'node:crypto';
import type { ApiRoutes, RouteContext } from './api-route.ts';
import { paginate } from './api-route.ts';
import { notAccessibleByIntegration, notFound, validationFailed } from './github-api-error.ts';
import { header } from './http-exchange.ts';
import type { InstallationToken, InstallationTokens } from './installation-tokens.ts';
import { isJsonObject, type JsonObject } from './json.ts';
import type { Representations, Urls } from './representations.ts';
import type { GitHubState, Repository } from './state.ts';

/** GitHub refuses a `client_payload` of 64 KB or more (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event). */
export const maxClientPayloadBytes = 64 * 1024;

/** A `repository_dispatch` the double accepted, as tests read it back. */
export interface RecordedDispatch {
  /** `owner/name`. */
  readonly repository: string;
  readonly repositoryId: number;
  readonly eventType: string;
  readonly clientPayload: JsonObject | undefined;
  readonly installationId: number;
  /** The installation token the dispatch was sent with. */
  readonly token: string;
  readonly receivedAt: string;
  /** When GitHub accepted it, in epoch milliseconds (the clock of the double), for rate-window checks. */
  readonly acceptedAt: number;
}

export function createInstallationRoutes(deps: {
  state: GitHubState;
  tokens: InstallationTokens;
  representations: Representations;
  urls: Urls;
  now: () => number;
  dispatches: RecordedDispatch[];
}): ApiRoutes {
  const { state, tokens, representations: rep, urls } = deps;

  function reachableRepository(context: RouteContext, token: InstallationToken): Repository {
    const repository = state.findRepository(String(context.params.owner), String(context.params.repo));
    if (!repository || !tokens.reaches(token, repository)) throw notFound(context.operation.documentationUrl);
    return repository;
  }

  return {
    'apps/list-repos-accessible-to-installation': {
      auth: 'installation',
      handle(context) {
        const token = context.credential.token;
        const repositories = tokens.repositories(token);
        const { page, headers } = paginate(repositories, context);
        return {
          status: 200,
          headers,
          json: {
            total_count: repositories.length,
            repositories: page.map((r) => rep.repository(r)),
            repository_selection: token.repositoryIds === 'all' ? token.installation.repositorySelection : 'selected',
          },
        };
      },
    },

    'repos/get-content': {
      auth: 'installation',
      handle(context) {
        const token = context.credential.token;
        const repository = reachableRepository(context, token);
        const path = String(context.params.path).replace(/^\/+|\/+$/g, '');
        const singleFile =
          tokens.allows(token, 'single_file', 'read') && token.installation.singleFilePaths.includes(path);
        if (!tokens.allows(token, 'contents', 'read') && !singleFile) {
          throw notAccessibleByIntegration(context.operation.documentationUrl);
        }
        const ref = context.params.ref;
        // Files are seeded on the default branch only.
        if (ref !== undefined && ref !== repository.defaultBranch && ref !== `refs/heads/${repository.defaultBranch}`) {
          throw notFound(context.operation.documentationUrl);
        }
        const full = `${repository.owner.login}/${repository.name}`;
        const branch = repository.defaultBranch;
        const entry = (entryPath: string, type: 'file' | 'dir', content?: string): JsonObject => {
          const sha = type === 'file' ? blobSha(content ?? '') : treeSha(full, entryPath);
          const self = `${urls.api}/repos/${full}/contents/${entryPath}?ref=${branch}`;
          const git = `${urls.api}/repos/${full}/git/${type === 'file' ? 'blobs' : 'trees'}/${sha}`;
          const html = `${urls.web}/${full}/${type === 'file' ? 'blob' : 'tree'}/${branch}/${entryPath}`;
          return {
            type,
            size: type === 'file' ? Buffer.byteLength(content ?? '') : 0,
            name: entryPath.split('/').at(-1) ?? entryPath,
            path: entryPath,
            sha,
            url: self,
            git_url: git,
            html_url: html,
            download_url: type === 'file' ? `${urls.web}/${full}/raw/${branch}/${entryPath}` : null,
            _links: { self, git, html },
          };
        };
        const content = repository.files.get(path);
        if (content !== undefined) {
          const accept = header(context.request, 'accept') ?? '';
          // The raw media type answers with the file's bytes (https://docs.github.com/rest/repos/contents#get-repository-content).
          if (accept.includes('application/vnd.github.raw')) {
            return { status: 200, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' }, text: content };
          }
          const base64 = Buffer.from(content).toString('base64');
          // GitHub wraps the base64 content at 60 characters, with a trailing newline.
          const wrapped = `${base64.match(/.{1,60}/g)?.join('\n') ?? ''}\n`;
          return { status: 200, json: { ...entry(path, 'file', content), content: wrapped, encoding: 'base64' } };
        }
        const prefix = path === '' ? '' : `${path}/`;
        const children = new Map<string, JsonObject>();
        for (const [filePath, fileContent] of repository.files) {
          if (!filePath.startsWith(prefix)) continue;
          const [first, ...rest] = filePath.slice(prefix.length).split('/');
          if (!first) continue;
          const childPath = `${prefix}${first}`;
          if (!children.has(childPath)) children.set(childPath, rest.length > 0 ? entry(childPath, 'dir') : entry(childPath, 'file', fileContent));
        }
        if (children.size === 0) throw notFound(context.operation.documentationUrl);
        return { status: 200, json: [...children.values()] };
      },
    },

    'repos/create-dispatch-event': {
      auth: 'installation',
      handle(context) {
        const token = context.credential.token;
        const repository = reachableRepository(context, token);
        // repository_dispatch needs Contents: write.
        if (!tokens.allows(token, 'contents', 'write')) throw notAccessibleByIntegration(context.operation.documentationUrl);
        const body = isJsonObject(context.body) ? context.body : {};
        const clientPayload = isJsonObject(body.client_payload) ? body.client_payload : undefined;
        if (clientPayload && Buffer.byteLength(JSON.stringify(clientPayload)) >= maxClientPayloadBytes) {
          throw validationFailed(
            `Invalid request.\n\nclient_payload must be less than ${maxClientPayloadBytes / 1024}KB.`,
            context.operation.documentationUrl,
          );
        }
        deps.dispatches.push({
          repository: `${repository.owner.login}/${repository.name}`,
          repositoryId: repository.id,
          eventType: String(body.event_type),
          clientPayload,
          installationId: token.installation.id,
          token: token.token,
          receivedAt: new Date(deps.now()).toISOString(),
          acceptedAt: deps.now(),
        });
        return { status: 204 };
      },
    },
  };
}

/** Git's blob id: SHA-1 of `blob <size>\0<content>`. */
function blobSha(content: string): string {
  const bytes = Buffer.from(content);
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

function treeSha(full: string, path: string): string {
  return createHash('sha1').update(`tree ${full}:${path}`).digest('hex');
}
