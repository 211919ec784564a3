/**
 * The owner's own account, for the console: `GET /api/account` (who is signed in, and the contact
 * e-mail — shown only to this session's account) and `DELETE /api/tenants/me` (offboarding: the
 * body must name the tenant, `{"confirm": "<tenant id>"}`, as the console's typed confirmation
 * does; then the control plane's destroy is enqueued and the contact e-mail deleted). Progress is
 * read as for provisioning, from `GET /api/tenants/me` (`deprovisioning` → `deleted`).
 */
import type { HttpHandler } from '@azure/functions';
import type { Logger } from '../core/logger.ts';
import type { AccountContacts } from './account-contacts.ts';
import { BadRequestError, NoTenantError } from './identity-errors.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { SessionGuard } from './require-session.ts';
import type { TenantAccounts } from './tenant-accounts.ts';

/** An offboarding body is one short field; anything bigger is not one. */
const maxBodyBytes = 1024;

export function createAccountHandlers(deps: { guard: SessionGuard; tenants: TenantAccounts; contacts: AccountContacts; log: Logger }): Record<'account' | 'offboard', HttpHandler> {
  return {
    async account(request, context) {
      try {
        const session = await deps.guard.require(request);
        const contactEmail = await deps.contacts.get(session.user.id);
        return { status: 200, headers: { ...noStore }, jsonBody: { user: session.user, ...(contactEmail ? { contactEmail } : {}) } };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
    async offboard(request, context) {
      try {
        const session = await deps.guard.requireWithCsrf(request);
        const text = await request.text();
        if (Buffer.byteLength(text) > maxBodyBytes) throw new BadRequestError('body must be {"confirm": "<tenant id>"}');
        let confirm: unknown;
        try {
          confirm = (JSON.parse(text) as { confirm?: unknown } | null)?.confirm;
        } catch (err) {
          throw new BadRequestError('body must be {"confirm": "<tenant id>"}', { cause: err });
        }
        const tenant = await deps.tenants.forOwner(session.user.id);
        if (!tenant) throw new NoTenantError('this account has no tenant');
        if (confirm !== tenant.tenantId) throw new BadRequestError('type the tenant id to confirm its deletion');
        const removing = await deps.tenants.offboard(session.user.id);
        await deps.contacts.remove(session.user.id);
        deps.log.info({ tenantId: tenant.tenantId, githubUserId: session.user.id }, 'tenant offboarding requested');
        return { status: 202, headers: { ...noStore, location: '/api/tenants/me' }, jsonBody: removing ?? tenant };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
  };
}
