/**
 * `GET /api/github/setup` (GitHub's setup URL after an install) and `GET /api/installations`.
 * The `installation_id` in the setup URL can be forged by anyone, so it is bound to the signed-in
 * user's tenant only after the user's own token lists it (`GET /user/installations`) — GitHub's
 * advice: https://docs.github.com/apps/creating-github-apps/about-creating-github-apps/about-the-setup-url
 * — and only when the user is entitled to administer it (`installation-entitlement.ts`): GitHub
 * lists there every installation a user can merely read, so a plain member of an organisation
 * would otherwise take the organisation's installation. An entitled user may reclaim an
 * installation from a tenant whose binder was not entitled (audited). Binding then releases the
 * deliveries parked for that installation.
 */
import type { HttpHandler } from '@azure/functions';
import { request as octokitRequest } from '@octokit/request';
import type { Logger } from '../core/logger.ts';
import type { InstallationRegistry } from '../platform/installation-registry.ts';
import { BadRequestError, InstallationNotVisibleError, NoTenantError, NotSignedInError } from './identity-errors.ts';
import { entitlementTo, holderIsEntitled, NotEntitledToInstallationError } from './installation-entitlement.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { SessionGuard } from './require-session.ts';
import type { TenantAccounts } from './tenant-accounts.ts';

export interface InstallationHandlerDeps {
  readonly guard: SessionGuard;
  readonly tenants: TenantAccounts;
  readonly installations: InstallationRegistry;
  readonly releaseParked: (installationId: number) => Promise<number>;
  readonly apiUrl: string;
  readonly log: Logger;
  readonly now?: () => Date;
}

interface UserInstallation {
  id: number;
  account: { login?: string; id?: number; type?: string } | null;
}

export function createInstallationHandlers(deps: InstallationHandlerDeps): Record<'setup' | 'list', HttpHandler> {
  const asUser = (token: string) =>
    octokitRequest.defaults({ baseUrl: deps.apiUrl, headers: { authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28' } });

  async function pages<T>(fetchPage: (page: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; page <= 50; page++) {
      const { items, total } = await fetchPage(page);
      all.push(...items);
      if (items.length === 0 || all.length >= total) break;
    }
    return all;
  }

  return {
    async setup(request, context) {
      try {
        const session = await deps.guard.require(request);
        const url = new URL(request.url);
        const raw = url.searchParams.get('installation_id') ?? '';
        if (!/^\d{1,15}$/.test(raw)) throw new BadRequestError('installation_id must be a number');
        const installationId = Number(raw);
        const tenant = await deps.tenants.forOwner(session.user.id);
        if (!tenant) throw new NoTenantError('sign up before installing the app');
        const token = session.githubToken();
        if (!token) throw new NotSignedInError('your GitHub sign-in expired: sign in again');
        const request_ = asUser(token);

        const mine = await pages<UserInstallation>(async (page) => {
          const { data } = await request_('GET /user/installations', { per_page: 100, page });
          return { items: data.installations as UserInstallation[], total: data.total_count };
        });
        const installation = mine.find((i) => i.id === installationId);
        if (!installation) throw new InstallationNotVisibleError(`installation ${installationId} is not one of yours`);
        const account = {
          login: installation.account?.login ?? '',
          id: installation.account?.id ?? -1,
          type: installation.account?.type === 'User' ? ('User' as const) : ('Organization' as const),
        };
        const record = await deps.installations.get(installationId);
        const user = { id: session.user.id, login: session.user.login };
        const entitlement = await entitlementTo({ user, account, installer: record?.installer, request: request_ });
        if (!entitlement) {
          throw new NotEntitledToInstallationError(
            account.type === 'User'
              ? `installation ${installationId} is on ${account.login}'s account: only ${account.login} can bind it`
              : `only an owner of ${account.login}, or the person who installed the app, can bind installation ${installationId}; ask an owner of ${account.login} to open this link`,
          );
        }
        const holder = record && !record.deleted ? record.tenantId : undefined;
        let reclaimFrom: string | undefined;
        if (record && holder && holder !== tenant.tenantId && !(await holderIsEntitled({ record, account, request: request_ }))) reclaimFrom = holder;
        const repositories = await pages(async (page) => {
          const { data } = await request_('GET /user/installations/{installation_id}/repositories', { installation_id: installationId, per_page: 100, page });
          return { items: data.repositories.map((r) => ({ id: Number(r.id), fullName: r.full_name })), total: data.total_count };
        });
        const bound = await deps.installations.bind(
          installationId,
          tenant.tenantId,
          {
            ...(installation.account?.login ? { accountLogin: installation.account.login } : {}),
            ...(typeof installation.account?.id === 'number' ? { accountId: installation.account.id } : {}),
            ...(installation.account?.type ? { accountType: installation.account.type } : {}),
            repositories,
            boundBy: user,
          },
          deps.now?.() ?? new Date(),
          reclaimFrom ? { reclaimFrom } : {},
        );
        if (reclaimFrom) {
          // Audited: who took the installation from which tenant, and why they could.
          deps.log.warn(
            { audit: 'installation-reclaimed', installationId, fromTenantId: reclaimFrom, toTenantId: tenant.tenantId, by: user.login, entitlement, previousBinder: record?.boundBy?.login ?? null },
            'installation reclaimed from a tenant whose binder was not entitled to it',
          );
        }
        const released = await deps.releaseParked(installationId);
        deps.log.info({ tenantId: tenant.tenantId, installationId, released, entitlement }, 'installation bound');
        return {
          status: 200,
          headers: { ...noStore },
          jsonBody: { installationId, tenantId: tenant.tenantId, repositories: bound.repositories, releasedDeliveries: released },
        };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
    async list(request, context) {
      try {
        const session = await deps.guard.require(request);
        const tenant = await deps.tenants.forOwner(session.user.id);
        if (!tenant) throw new NoTenantError('this account has no tenant yet');
        const installations = await deps.installations.listForTenant(tenant.tenantId);
        return {
          status: 200,
          headers: { ...noStore },
          jsonBody: {
            installations: installations.map((i) => ({
              installationId: i.installationId,
              account: i.accountLogin,
              accountType: i.accountType,
              suspended: i.suspended,
              repositories: i.repositories,
            })),
          },
        };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
  };
}
