/**
 * A refusal the double answers the way GitHub does: status plus GitHub's `{ message,
 * documentation_url, status }` body (the `status` string field appears in GitHub's error bodies
 * since 2023). Handlers throw it; the HTTP layer turns it into the response. The wording of each
 * message is GitHub's own, as its clients (and `@octokit/auth-app`'s clock-skew retry) match on it.
 */
import type { JsonObject } from './json.ts';

const restDocs = 'https://docs.github.com/rest';

export class GitHubApiError extends Error {
  override name = 'GitHubApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl: string = restDocs,
    readonly extra: JsonObject = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  body(): JsonObject {
    return { message: this.message, documentation_url: this.documentationUrl, ...this.extra, status: String(this.status) };
  }
}

export const badCredentials = () => new GitHubApiError(401, 'Bad credentials');
export const requiresAuthentication = (docs?: string) => new GitHubApiError(401, 'Requires authentication', docs);
export const notFound = (docs?: string) => new GitHubApiError(404, 'Not Found', docs);
/** What an installation token gets for an endpoint or repository its permissions do not cover. */
export const notAccessibleByIntegration = (docs?: string) => new GitHubApiError(403, 'Resource not accessible by integration', docs);
export const validationFailed = (message: string, docs?: string, extra?: JsonObject) => new GitHubApiError(422, message, docs, extra);
