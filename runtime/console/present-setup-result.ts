/**
 * GitHub's setup redirect lands a person's browser on `GET /api/github/setup`. For a browser (it
 * asks for `text/html`) the binding's answer is presented, not printed: the browser is sent to the
 * console's install page with the outcome — `bound`, `refused` (not your installation), `claimed`
 * (another account's), `no-tenant`, `invalid` — or to sign-in and back here when the session ran
 * out. Other callers (tests, scripts) get the JSON API unchanged. Who may bind is decided by the
 * wrapped handler alone; this only reads its status.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { noStore } from '../identity/identity-responses.ts';
import { NotSignedInError } from '../identity/identity-errors.ts';
import type { SessionGuard } from '../identity/require-session.ts';
import type { TenantAccounts } from '../identity/tenant-accounts.ts';

export type SetupOutcome = 'bound' | 'refused' | 'claimed' | 'no-tenant' | 'invalid' | 'error';

const outcomeOfStatus: Readonly<Record<number, SetupOutcome>> = { 200: 'bound', 400: 'invalid', 403: 'refused', 409: 'claimed' };

function wantsPage(request: HttpRequest): boolean {
  return (request.headers.get('accept') ?? '').includes('text/html');
}

function redirect(location: string): HttpResponseInit {
  return { status: 303, headers: { location, ...noStore } };
}

export function presentSetupResult(setup: HttpHandler, deps: { guard: SessionGuard; tenants: TenantAccounts }): HttpHandler {
  return async (request, context) => {
    if (!wantsPage(request)) return setup(request, context);
    const url = new URL(request.url);
    const signIn = redirect(`/api/auth/login?return_to=${encodeURIComponent(`${url.pathname}${url.search}`)}`);
    const raw = url.searchParams.get('installation_id') ?? '';
    const page = (outcome: SetupOutcome, extra: Record<string, string> = {}) =>
      redirect(`/install?${new URLSearchParams({ result: outcome, ...(/^\d{1,15}$/.test(raw) ? { installation_id: raw } : {}), ...extra })}`);
    let userId: number;
    try {
      userId = (await deps.guard.require(request)).user.id;
    } catch (err) {
      if (err instanceof NotSignedInError) return signIn;
      context.error('setup: session check failed', err);
      return page('error');
    }
    try {
      // 409 means "no tenant" or "claimed by another tenant": tell them apart before binding.
      if (!(await deps.tenants.forOwner(userId))) return page('no-tenant');
    } catch (err) {
      context.error('setup: tenant lookup failed', err);
      return page('error');
    }
    const response = await setup(request, context);
    const status = response.status ?? 200;
    if (status === 401) return signIn;
    const outcome = outcomeOfStatus[status] ?? 'error';
    const repositories = ('jsonBody' in response ? (response.jsonBody as { repositories?: unknown[] } | undefined) : undefined)?.repositories;
    return page(outcome, outcome === 'bound' && Array.isArray(repositories) ? { repositories: String(repositories.length) } : {});
  };
}
