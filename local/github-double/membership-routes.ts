/**
 * GitHub's organisation membership API, for user access tokens (`ghu_…`): a user's own membership
 * (`GET /user/memberships/orgs/{org}`) and another member's (`GET /orgs/{org}/memberships/{username}`),
 * each with its `role` — `admin` for an organisation owner, `member` otherwise
 * (https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user).
 * A user token reaches only what both the user and the App may: the App must be installed on the
 * organisation with the organisation permission `members: read`, or GitHub answers 403
 * `Resource not accessible by integration`. Someone who is not a member gets 404, as GitHub does not
 * reveal memberships to outsiders.
 */
import type { ApiRoutes, RouteContext } from './api-route.ts';
import { notAccessibleByIntegration, notFound } from './github-api-error.ts';
import type { Representations } from './representations.ts';
import { covers, type Account, type GitHubState, type User } from './state.ts';
import type { UserToken } from './oauth-web-flow.ts';

export function createMembershipRoutes(deps: { state: GitHubState; representations: Representations }): ApiRoutes {
  const { state, representations: rep } = deps;

  /** The organisation, once the token's App may read its members; 404 before 403, as GitHub hides unknown organisations. */
  function readableOrganization(context: RouteContext, token: UserToken): Account {
    const org = state.accounts.get(String(context.params.org).toLowerCase());
    if (!org || org.type !== 'Organization') throw notFound(context.operation.documentationUrl);
    if (!state.roleIn(org.login, token.user)) throw notFound(context.operation.documentationUrl);
    const installation = [...state.installations.values()].find((i) => i.app.id === token.app.id && i.account.id === org.id);
    if (!installation || installation.suspendedAt || !covers(installation.permissions.members, 'read')) {
      throw notAccessibleByIntegration(context.operation.documentationUrl);
    }
    return org;
  }

  function membership(context: RouteContext, org: Account, user: User | undefined) {
    const role = user ? state.roleIn(org.login, user) : undefined;
    if (!user || !role) throw notFound(context.operation.documentationUrl);
    return { status: 200, json: rep.orgMembership(org, user, role) };
  }

  return {
    'orgs/get-membership-for-authenticated-user': {
      auth: 'user',
      handle(context) {
        const { token } = context.credential;
        return membership(context, readableOrganization(context, token), token.user);
      },
    },

    'orgs/get-membership-for-user': {
      auth: 'user',
      handle(context) {
        const { token } = context.credential;
        const org = readableOrganization(context, token);
        return membership(context, org, state.users.get(String(context.params.username).toLowerCase()));
      },
    },
  };
}
