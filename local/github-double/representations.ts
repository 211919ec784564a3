/**
 * How the state looks on the wire: the REST API's JSON for accounts, repositories, installations
 * and Apps, with every URL pointing at the double. The shapes follow GitHub's REST description
 * (`simple-user`, `repository`, `installation`, `integration`, `private-user`); every response
 * is checked against it, so a missing field here fails the request that needed it.
 */
import type { Account, App, Installation, Repository, User } from './state.ts';
import type { JsonObject } from './json.ts';

export interface Urls {
  /** REST base, e.g. `http://127.0.0.1:port/api/v3`. */
  readonly api: string;
  /** Web base (OAuth, html_url). */
  readonly web: string;
}

export interface Representations {
  simpleUser(account: Account): JsonObject;
  privateUser(user: User): JsonObject;
  repository(repository: Repository): JsonObject;
  installation(installation: Installation): JsonObject;
  integration(app: App): JsonObject;
  organizationSimple(organization: Account): JsonObject;
  /** `org-membership`: a user's membership of an organisation. */
  orgMembership(organization: Account, user: User, role: 'admin' | 'member'): JsonObject;
}

export function createRepresentations(urls: Urls): Representations {
  const { api, web } = urls;
  // Parsed once: every repository representation names it twice.
  const host = new URL(web).host;

  function simpleUser(account: Account): JsonObject {
    const u = `${api}/users/${account.login}`;
    return {
      login: account.login,
      id: account.id,
      node_id: account.nodeId,
      avatar_url: `${web}/avatars/u/${account.id}`,
      gravatar_id: '',
      url: u,
      html_url: `${web}/${account.login}`,
      followers_url: `${u}/followers`,
      following_url: `${u}/following{/other_user}`,
      gists_url: `${u}/gists{/gist_id}`,
      starred_url: `${u}/starred{/owner}{/repo}`,
      subscriptions_url: `${u}/subscriptions`,
      organizations_url: `${u}/orgs`,
      repos_url: `${u}/repos`,
      events_url: `${u}/events{/privacy}`,
      received_events_url: `${u}/received_events`,
      type: account.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  function organizationSimple(organization: Account): JsonObject {
    const o = `${api}/orgs/${organization.login}`;
    return {
      login: organization.login,
      id: organization.id,
      node_id: organization.nodeId,
      url: o,
      repos_url: `${o}/repos`,
      events_url: `${o}/events`,
      hooks_url: `${o}/hooks`,
      issues_url: `${o}/issues`,
      members_url: `${o}/members{/member}`,
      public_members_url: `${o}/public_members{/member}`,
      avatar_url: `${web}/avatars/u/${organization.id}`,
      description: null,
    };
  }

  return {
    simpleUser,
    organizationSimple,

    orgMembership(organization, user, role) {
      return {
        url: `${api}/orgs/${organization.login}/memberships/${user.login}`,
        state: 'active',
        role,
        organization_url: `${api}/orgs/${organization.login}`,
        organization: organizationSimple(organization),
        user: simpleUser(user),
        permissions: { can_create_repository: role === 'admin' },
      };
    },

    privateUser(user) {
      return {
        ...simpleUser(user),
        user_view_type: 'private',
        name: user.name,
        company: null,
        blog: '',
        location: null,
        email: user.email,
        notification_email: user.email,
        hireable: null,
        bio: null,
        twitter_username: null,
        public_repos: 0,
        public_gists: 0,
        followers: 0,
        following: 0,
        created_at: user.createdAt,
        updated_at: user.createdAt,
        private_gists: 0,
        total_private_repos: 0,
        owned_private_repos: 0,
        disk_usage: 0,
        collaborators: 0,
        two_factor_authentication: true,
      };
    },

    repository(repository) {
      const full = `${repository.owner.login}/${repository.name}`;
      const r = `${api}/repos/${full}`;
      return {
        id: repository.id,
        node_id: repository.nodeId,
        name: repository.name,
        full_name: full,
        owner: simpleUser(repository.owner),
        private: repository.private,
        visibility: repository.private ? 'private' : 'public',
        html_url: `${web}/${full}`,
        description: null,
        fork: false,
        url: r,
        archive_url: `${r}/{archive_format}{/ref}`,
        assignees_url: `${r}/assignees{/user}`,
        blobs_url: `${r}/git/blobs{/sha}`,
        branches_url: `${r}/branches{/branch}`,
        collaborators_url: `${r}/collaborators{/collaborator}`,
        comments_url: `${r}/comments{/number}`,
        commits_url: `${r}/commits{/sha}`,
        compare_url: `${r}/compare/{base}...{head}`,
        contents_url: `${r}/contents/{+path}`,
        contributors_url: `${r}/contributors`,
        deployments_url: `${r}/deployments`,
        downloads_url: `${r}/downloads`,
        events_url: `${r}/events`,
        forks_url: `${r}/forks`,
        git_commits_url: `${r}/git/commits{/sha}`,
        git_refs_url: `${r}/git/refs{/sha}`,
        git_tags_url: `${r}/git/tags{/sha}`,
        git_url: `git://${host}/${full}.git`,
        issue_comment_url: `${r}/issues/comments{/number}`,
        issue_events_url: `${r}/issues/events{/number}`,
        issues_url: `${r}/issues{/number}`,
        keys_url: `${r}/keys{/key_id}`,
        labels_url: `${r}/labels{/name}`,
        languages_url: `${r}/languages`,
        merges_url: `${r}/merges`,
        milestones_url: `${r}/milestones{/number}`,
        notifications_url: `${r}/notifications{?since,all,participating}`,
        pulls_url: `${r}/pulls{/number}`,
        releases_url: `${r}/releases{/id}`,
        ssh_url: `git@${host}:${full}.git`,
        stargazers_url: `${r}/stargazers`,
        statuses_url: `${r}/statuses/{sha}`,
        subscribers_url: `${r}/subscribers`,
        subscription_url: `${r}/subscription`,
        tags_url: `${r}/tags`,
        teams_url: `${r}/teams`,
        trees_url: `${r}/git/trees{/sha}`,
        clone_url: `${web}/${full}.git`,
        mirror_url: null,
        hooks_url: `${r}/hooks`,
        svn_url: `${web}/${full}`,
        homepage: null,
        language: null,
        forks_count: 0,
        stargazers_count: 0,
        watchers_count: 0,
        size: 0,
        default_branch: repository.defaultBranch,
        open_issues_count: 0,
        is_template: false,
        topics: [],
        has_issues: true,
        has_projects: false,
        has_wiki: false,
        has_pages: false,
        has_downloads: true,
        has_discussions: false,
        archived: false,
        disabled: false,
        pushed_at: repository.createdAt,
        created_at: repository.createdAt,
        updated_at: repository.createdAt,
        allow_forking: false,
        web_commit_signoff_required: false,
        license: null,
        forks: 0,
        open_issues: 0,
        watchers: 0,
      };
    },

    installation(installation) {
      return {
        id: installation.id,
        account: simpleUser(installation.account),
        repository_selection: installation.repositorySelection,
        access_tokens_url: `${api}/app/installations/${installation.id}/access_tokens`,
        repositories_url: `${api}/installation/repositories`,
        html_url:
          installation.account.type === 'Organization'
            ? `${web}/organizations/${installation.account.login}/settings/installations/${installation.id}`
            : `${web}/settings/installations/${installation.id}`,
        app_id: installation.app.id,
        app_slug: installation.app.slug,
        client_id: installation.app.clientId,
        target_id: installation.account.id,
        target_type: installation.account.type,
        permissions: { ...installation.permissions },
        events: [...installation.events],
        created_at: installation.createdAt,
        updated_at: installation.createdAt,
        single_file_name: installation.singleFilePaths[0] ?? null,
        has_multiple_single_files: installation.singleFilePaths.length > 1,
        single_file_paths: [...installation.singleFilePaths],
        suspended_by: null,
        suspended_at: installation.suspendedAt,
      };
    },

    integration(app) {
      return {
        id: app.id,
        slug: app.slug,
        node_id: app.nodeId,
        client_id: app.clientId,
        owner: simpleUser(app.owner),
        name: app.name,
        description: null,
        external_url: web,
        html_url: `${web}/apps/${app.slug}`,
        created_at: app.createdAt,
        updated_at: app.createdAt,
        permissions: { ...app.permissions },
        events: [...app.events],
      };
    },
  };
}
