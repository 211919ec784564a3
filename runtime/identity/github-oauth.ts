/**
 * The GitHub sign-in client: OAuth 2.0 authorization code flow with PKCE (S256) through
 * `openid-client` (GitHub is a plain OAuth server, not OpenID Connect, so its metadata is given
 * rather than discovered). The web base URL is a setting, so the same code talks to GitHub or the
 * GitHub API double. https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
 */
import * as client from 'openid-client';
import { request as octokitRequest } from '@octokit/request';
import { AuthFlowError } from './identity-errors.ts';

export interface GitHubOAuthOptions {
  readonly webUrl: string;
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl: string;
}

export interface GitHubUserGrant {
  readonly token: string;
  readonly expiresAt?: Date;
  readonly user: { id: number; login: string };
}

export function createGitHubOAuth(options: GitHubOAuthOptions) {
  const config = new client.Configuration(
    {
      issuer: options.webUrl,
      authorization_endpoint: `${options.webUrl}/login/oauth/authorize`,
      token_endpoint: `${options.webUrl}/login/oauth/access_token`,
    },
    options.clientId,
    undefined,
    client.ClientSecretPost(options.clientSecret),
  );
  // Plain http only for a local GitHub API double; github.com is https.
  if (new URL(options.webUrl).protocol === 'http:') client.allowInsecureRequests(config);

  return {
    async authorizationUrl(state: string, codeVerifier: string): Promise<string> {
      const challenge = await client.calculatePKCECodeChallenge(codeVerifier);
      return client
        .buildAuthorizationUrl(config, {
          redirect_uri: options.redirectUrl,
          state,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          allow_signup: 'true',
        })
        .toString();
    },
    /** Exchanges the callback's code (server-side) and reads who signed in. */
    async exchange(callbackUrl: URL, expectedState: string, codeVerifier: string): Promise<GitHubUserGrant> {
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, callbackUrl, { expectedState, pkceCodeVerifier: codeVerifier }, { redirect_uri: options.redirectUrl });
      } catch (err) {
        // The library's error carries the server's answer, never our secret; keep it as the cause.
        throw new AuthFlowError('GitHub refused the authorization code', { cause: err });
      }
      const token = tokens.access_token;
      const expiresIn = tokens.expiresIn();
      const { data } = await octokitRequest('GET /user', {
        baseUrl: options.apiUrl,
        headers: { authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28' },
      });
      return { token, ...(expiresIn ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}), user: { id: Number(data.id), login: data.login } };
    },
  };
}

export type GitHubOAuth = ReturnType<typeof createGitHubOAuth>;
