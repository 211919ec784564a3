/**
 * Installation access tokens (`ghs_…`): minted by `POST /app/installations/{id}/access_tokens`,
 * valid for one hour, optionally down-scoped to some repositories and permissions. GitHub's rules
 * (https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app):
 * repositories must belong to the installation, at most 500 may be listed, and a permission the
 * installation was not granted cannot be asked for; both refusals are 422s.
 */
import { randomBytes } from 'node:crypto';
import { GitHubApiError, validationFailed } from './github-api-error.ts';
import { covers, type GitHubState, type Installation, type PermissionLevel, type Permissions, type Repository } from './state.ts';

/** GitHub's installation tokens expire after one hour. */
export const installationTokenLifetimeMs = 60 * 60 * 1000;
/** Most repositories one token request may name. */
export const maxRepositoriesPerToken = 500;

const createTokenDocs = 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';

export interface InstallationToken {
  readonly token: string;
  readonly installation: Installation;
  readonly expiresAt: number;
  /** The repositories the token is limited to, or `all` of the installation's. */
  readonly repositoryIds: ReadonlySet<number> | 'all';
  readonly permissions: Permissions;
}

export interface TokenRequest {
  readonly repositoryIds?: readonly number[];
  readonly repositories?: readonly string[];
  readonly permissions?: Permissions;
}

export interface InstallationTokens {
  mint(installation: Installation, request: TokenRequest): { token: InstallationToken; repositories: Repository[] | undefined };
  /** The live token for a `ghs_` string; `undefined` when unknown or expired. */
  lookup(token: string): InstallationToken | undefined;
  /** Whether the token reaches the repository (and the installation still does). */
  reaches(token: InstallationToken, repository: Repository): boolean;
  /** The repositories a token reaches now. */
  repositories(token: InstallationToken): Repository[];
  allows(token: InstallationToken, permission: string, level: PermissionLevel): boolean;
}

export function createInstallationTokens(options: { state: GitHubState; now: () => number }): InstallationTokens {
  const { state, now } = options;
  const tokens = new Map<string, InstallationToken>();

  function repositories(token: InstallationToken): Repository[] {
    const reachable = state.installationRepositories(token.installation);
    return token.repositoryIds === 'all' ? reachable : reachable.filter((r) => (token.repositoryIds as ReadonlySet<number>).has(r.id));
  }

  return {
    mint(installation, request) {
      if (installation.suspendedAt) throw new GitHubApiError(403, 'This installation has been suspended', createTokenDocs);
      const reachable = state.installationRepositories(installation);
      const wanted = [...(request.repositoryIds ?? []), ...(request.repositories ?? [])];
      if (wanted.length > maxRepositoriesPerToken) {
        throw validationFailed(`Too many repositories: at most ${maxRepositoriesPerToken} may be listed.`, createTokenDocs);
      }
      let selected: Repository[] | undefined;
      if (request.repositoryIds !== undefined || request.repositories !== undefined) {
        selected = [];
        for (const key of wanted) {
          const repository = reachable.find((r) =>
            typeof key === 'number' ? r.id === key : r.name.toLowerCase() === key.toLowerCase(),
          );
          if (!repository) {
            throw validationFailed(
              'There is at least one repository that does not exist or is not accessible to the parent installation.',
              createTokenDocs,
            );
          }
          if (!selected.includes(repository)) selected.push(repository);
        }
      }
      let permissions: Permissions = installation.permissions;
      if (request.permissions !== undefined) {
        for (const [name, level] of Object.entries(request.permissions)) {
          if (!covers(installation.permissions[name], level)) {
            throw validationFailed('The permissions requested are not granted to this installation.', createTokenDocs);
          }
        }
        // Metadata (read) comes with every installation token.
        const metadata = installation.permissions.metadata;
        permissions = { ...(metadata ? { metadata: 'read' as const } : {}), ...request.permissions };
      }
      const token: InstallationToken = {
        token: `ghs_${randomToken(36)}`,
        installation,
        expiresAt: now() + installationTokenLifetimeMs,
        repositoryIds: selected ? new Set(selected.map((r) => r.id)) : 'all',
        permissions,
      };
      tokens.set(token.token, token);
      return { token, repositories: selected };
    },

    lookup(value) {
      const token = tokens.get(value);
      if (!token) return undefined;
      if (token.expiresAt <= now()) {
        tokens.delete(value);
        return undefined;
      }
      return token;
    },

    reaches(token, repository) {
      return repositories(token).some((r) => r.id === repository.id);
    },

    repositories,

    allows(token, permission, level) {
      return covers(token.permissions[permission], level);
    },
  };
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random base62 text (GitHub tokens are `prefix_` + 36 such characters). */
export function randomToken(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (const byte of bytes) {
    // 248 = 62 * 4: dropping larger bytes keeps every character equally likely.
    if (byte < 248) out += alphabet[byte % 62];
    if (out.length === length) return out;
  }
  return out + randomToken(length - out.length);
}
