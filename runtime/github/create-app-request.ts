/**
 * A GitHub request function authenticated as the Zekt GitHub App (a JWT signed with the App's
 * private key, made and cached by `@octokit/auth-app`), aimed at a configurable API base URL so the
 * same code talks to GitHub or to the GitHub API double. Only the platform holds the private key.
 */
import { createAppAuth } from '@octokit/auth-app';
import { request as defaultRequest } from '@octokit/request';

export interface AppRequestOptions {
  readonly appId: number | string;
  /** PEM, from the platform vault; never logged. */
  readonly privateKey: string;
  readonly apiUrl: string;
  readonly userAgent?: string;
}

export function createAppRequest(options: AppRequestOptions) {
  const request = defaultRequest.defaults({
    baseUrl: options.apiUrl,
    headers: { 'user-agent': options.userAgent ?? 'zekt', 'x-github-api-version': '2022-11-28' },
  });
  const auth = createAppAuth({ appId: options.appId, privateKey: options.privateKey, request });
  return { request: request.defaults({ request: { hook: auth.hook } }), auth };
}

export type AppRequest = ReturnType<typeof createAppRequest>['request'];
