/**
 * The REST operations Zekt calls with a signed-in user's token (`ghu_…`): who the user is, and
 * which installations of the App they can reach — the check that binds an `installation_id` from
 * the setup URL to a tenant only when the user's own token shows it
 * (https://docs.github.com/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token).
 */
import type { ApiRoutes } from './api-route.ts';
import { paginate } from './api-route.ts';
import { notFound } from './github-api-error.ts';
import type { Representations } from './representations.ts';
import type { GitHubState } from './state.ts';

export function createUserRoutes(deps: { state: GitHubState; representations: Representations }): ApiRoutes {
  const { state, representations: rep } = deps;
  return {
    'users/get-authenticated': {
      auth: 'user',
      handle({ credential }) {
        return { status: 200, json: rep.privateUser(credential.token.user) };
      },
    },

    'apps/list-installations-for-authenticated-user': {
      auth: 'user',
      handle(context) {
        const { user, app } = context.credential.token;
        const installations = state.userInstallations(user, app);
        const { page, headers } = paginate(installations, context);
        return { status: 200, headers, json: { total_count: installations.length, installations: page.map((i) => rep.installation(i)) } };
      },
    },

    'apps/list-installation-repos-for-authenticated-user': {
      auth: 'user',
      handle(context) {
        const { user, app } = context.credential.token;
        const installation = state
          .userInstallations(user, app)
          .find((i) => i.id === Number(context.params.installation_id));
        // An installation the user cannot reach is not revealed.
        if (!installation) throw notFound(context.operation.documentationUrl);
        const repositories = state.installationRepositories(installation);
        const { page, headers } = paginate(repositories, context);
        return {
          status: 200,
          headers,
          json: {
            total_count: repositories.length,
            repository_selection: installation.repositorySelection,
            repositories: page.map((r) => rep.repository(r)),
          },
        };
      },
    },
  };
}
