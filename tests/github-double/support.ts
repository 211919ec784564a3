/**
 * Shared set-up of the GitHub double tests: a double per `describe`, seeded by the test, and after
 * each test a check that the double never answered with a response that breaks GitHub's REST
 * description (that would be a bug of the double, whatever the test asserted).
 */
import { expect } from 'chai';
import { request } from '@octokit/request';
import { createAppAuth } from '@octokit/auth-app';
import { startGitHubDouble, type GitHubDouble, type StartGitHubDoubleOptions } from '../../local/github-double/start-github-double.ts';

export function useGitHubDouble(options: StartGitHubDoubleOptions = {}): { readonly double: GitHubDouble } {
  const holder: { double?: GitHubDouble } = {};
  before(async () => {
    holder.double = await startGitHubDouble(options);
  });
  afterEach(() => {
    const broken = (holder.double?.schemaErrors ?? []).filter((e) => e.kind === 'invalid-response');
    expect(broken, 'the double sent responses that break GitHub\'s REST description').to.deep.equal([]);
  });
  after(async () => {
    await holder.double?.close();
  });
  return {
    get double() {
      if (!holder.double) throw new Error('the GitHub double is not started yet');
      return holder.double;
    },
  };
}

/** `@octokit/request` aimed at the double. */
export function apiRequest(double: GitHubDouble, token?: string) {
  return request.defaults({ baseUrl: double.apiUrl, ...(token ? { headers: { authorization: `token ${token}` } } : {}) });
}

/** `@octokit/auth-app` for an App of the double. */
export function appAuth(double: GitHubDouble, app = double.app) {
  return createAppAuth({ appId: app.id, privateKey: app.privateKey, request: apiRequest(double) });
}

/** The status of a refused `@octokit/request` call (and its body), or a failure when it succeeded. */
export async function refusal(call: Promise<unknown>): Promise<{ status: number; data: { message?: string; documentation_url?: string } }> {
  try {
    await call;
  } catch (err) {
    const e = err as { status?: number; response?: { data?: { message?: string; documentation_url?: string } } };
    if (typeof e.status !== 'number') throw err;
    return { status: e.status, data: e.response?.data ?? {} };
  }
  expect.fail('the request was expected to be refused');
}
