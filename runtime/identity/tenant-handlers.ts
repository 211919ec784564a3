/**
 * `POST /api/signup` and `GET /api/tenants/me`: a signed-in GitHub account becomes a tenant
 * (`requested`, provisioning enqueued; a second signup returns the same tenant) and watches it
 * move to `ready`. Responses carry status, progress and public endpoints — never secrets, never
 * engine output (a failure shows as a short reason and a reference). Signing up again retries a
 * failed tenant and starts a new life for a deleted one; a tenant being deleted answers 409.
 * Signup also takes the account's contact e-mail (`contactEmail`, see account-contacts.ts).
 */
import type { HttpHandler } from '@azure/functions';
import { assertTenantId } from '../../tenant-stack/tenant-id.ts';
import type { Logger } from '../core/logger.ts';
import { BadRequestError, NoTenantError } from './identity-errors.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import { readText } from '../functions/read-body.ts';
import type { SessionGuard } from './require-session.ts';
import { tenantIdForLogin, type TenantAccounts } from './tenant-accounts.ts';
import { parseContactEmail, type AccountContacts } from './account-contacts.ts';

/** A signup body is `{"tenantId": "..."}`; nothing bigger is read. */
const signupBodyBytes = 4096;

/** An owner's tenant in one of these is asked for again (re-provisioned, or refused while being deleted). */
const retried = new Set(['failed', 'deleted', 'deprovisioning']);

export function createTenantHandlers(deps: { guard: SessionGuard; tenants: TenantAccounts; log: Logger; contacts?: AccountContacts }): Record<'signup' | 'me', HttpHandler> {
  return {
    async signup(request, context) {
      try {
        const session = await deps.guard.requireWithCsrf(request);
        let requested: string | undefined;
        let contactEmail: string | undefined;
        const text = await readText(request, signupBodyBytes);
        if (text.trim()) {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (err) {
            throw new BadRequestError('body must be JSON', { cause: err });
          }
          if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('body must be a JSON object');
          const tenantId = (body as { tenantId?: unknown }).tenantId;
          if (tenantId !== undefined) {
            assertTenantId(tenantId);
            requested = tenantId;
          }
          const email = (body as { contactEmail?: unknown }).contactEmail;
          if (email !== undefined) contactEmail = parseContactEmail(email);
        }
        const existing = await deps.tenants.forOwner(session.user.id);
        if (existing && !retried.has(existing.status)) {
          if (contactEmail) await deps.contacts?.set(session.user.id, contactEmail);
          return { status: 200, headers: { ...noStore }, jsonBody: existing };
        }
        const asked = !existing && requested !== undefined;
        const tenant = await deps.tenants.signup(session.user, existing?.tenantId ?? requested ?? tenantIdForLogin(session.user.login), asked);
        // Kept only once the signup is accepted: a refused signup changes nothing.
        if (contactEmail) await deps.contacts?.set(session.user.id, contactEmail);
        deps.log.info({ tenantId: tenant.tenantId, githubUserId: session.user.id }, 'tenant requested');
        return { status: 202, headers: { ...noStore, location: '/api/tenants/me' }, jsonBody: tenant };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
    async me(request, context) {
      try {
        const session = await deps.guard.require(request);
        const tenant = await deps.tenants.forOwner(session.user.id);
        if (!tenant) throw new NoTenantError('this account has no tenant yet: POST /api/signup');
        return { status: 200, headers: { ...noStore }, jsonBody: tenant };
      } catch (err) {
        return identityErrorResponse(err, context);
      }
    },
  };
}
