/**
 * Who may bind an installation of the Zekt App to their tenant: the people entitled to administer
 * it on GitHub, never everyone who can see it.
 *
 * - the account itself, for an installation on a personal account;
 * - the user who installed the App (the `sender` of `installation.created`, kept by the
 *   installation registry);
 * - an owner (`role: admin`) of the organisation, asked of GitHub's membership API with the
 *   signed-in user's own token: `GET /user/memberships/orgs/{org}`
 *   (https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user).
 *   A GitHub App's user token reaches it only with the App's organisation permission
 *   `members: read` (github-app/manifest.json); without it, or for a non-member, GitHub answers
 *   403 or 404, read here as "not an owner".
 *
 * The same rules decide whether the tenant holding an installation got it rightfully: its binder
 * is asked about with `GET /orgs/{org}/memberships/{username}` (the signed-in owner can see every
 * member's role). A row bound before the binder was recorded proves nothing, so it can be reclaimed.
 */
import type { request as octokitRequest } from '@octokit/request';
import type { GitHubUserRef, Installation } from '../platform/installation-registry.ts';
import { InstallationNotVisibleError } from './identity-errors.ts';

type RequestInterface = typeof octokitRequest;

/**
 * The signed-in user may see the installation but is not entitled to administer it. → 403
 * (a kind of "not yours": it maps wherever `InstallationNotVisibleError` does).
 */
export class NotEntitledToInstallationError extends InstallationNotVisibleError {
  override name = 'NotEntitledToInstallationError';
}

export interface InstallationAccount {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Organization';
}

export type Entitlement = 'account' | 'installer' | 'organization-admin';

/** Why `user` may administer the installation, or `undefined` when they may not. */
export async function entitlementTo(input: {
  user: GitHubUserRef;
  account: InstallationAccount;
  installer: GitHubUserRef | undefined;
  /** `@octokit/request` authenticated with the signed-in user's token. */
  request: RequestInterface;
}): Promise<Entitlement | undefined> {
  const { user, account, installer } = input;
  if (account.type === 'User') {
    if (account.id === user.id) return 'account';
    return installer?.id === user.id ? 'installer' : undefined;
  }
  if (installer?.id === user.id) return 'installer';
  const membership = await read(input.request('GET /user/memberships/orgs/{org}', { org: account.login }));
  return isOwner(membership) ? 'organization-admin' : undefined;
}

/** Whether the user who bound `record` to its tenant was entitled to; `false` when nobody knows who did. */
export async function holderIsEntitled(input: {
  record: Installation;
  account: InstallationAccount;
  request: RequestInterface;
}): Promise<boolean> {
  const binder = input.record.boundBy;
  if (!binder) return false;
  if (input.account.type === 'User' ? binder.id === input.account.id : false) return true;
  if (input.record.installer?.id === binder.id) return true;
  if (input.account.type === 'User') return false;
  const membership = await read(input.request('GET /orgs/{org}/memberships/{username}', { org: input.account.login, username: binder.login }));
  return isOwner(membership);
}

function isOwner(membership: { role?: string; state?: string } | undefined): boolean {
  return membership?.role === 'admin' && membership.state === 'active';
}

/** The membership, or `undefined` when GitHub will not show one (403: no permission, 404: not a member). */
async function read(call: Promise<{ data: { role?: string; state?: string } }>): Promise<{ role?: string; state?: string } | undefined> {
  try {
    return (await call).data;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (status === 403 || status === 404) return undefined;
    throw err;
  }
}
