/**
 * The settings that make the local platform take a GitHub double as it takes a real GitHub with
 * an existing App (docs/real-github.md): the double's URLs and its App's credentials, the private
 * key from the file at `privateKeyPath` (which the caller writes, readable by its user alone). For
 * tests and benchmarks that run the double apart from the platform.
 */
import type { GitHubAppCredentials } from './github-double-types.ts';

export interface DoubleAsGitHub {
  readonly apiUrl: string;
  readonly webUrl: string;
  readonly oidcIssuer: string;
  readonly app: GitHubAppCredentials;
}

export function existingAppSettings(github: DoubleAsGitHub, privateKeyPath: string): Record<string, string> {
  return {
    GITHUB_API_URL: github.apiUrl,
    GITHUB_WEB_URL: github.webUrl,
    GITHUB_OIDC_ISSUER: github.oidcIssuer,
    GITHUB_APP_ID: String(github.app.id),
    GITHUB_APP_CLIENT_ID: github.app.clientId,
    GITHUB_APP_PRIVATE_KEY_PATH: privateKeyPath,
    GITHUB_WEBHOOK_SECRET: github.app.webhookSecret,
    GITHUB_APP_CLIENT_SECRET: github.app.clientSecret,
  };
}
