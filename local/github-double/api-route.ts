/**
 * What an implemented REST operation looks like to the double: the credential it takes and a
 * handler that gets the checked request. Routes are keyed by GitHub's `operationId`, so the
 * OpenAPI description, not the double, decides which path and method reach them.
 */
import type { DoubleRequest, DoubleResponse } from './http-exchange.ts';
import type { InstallationToken } from './installation-tokens.ts';
import type { Json } from './json.ts';
import type { UserToken } from './oauth-web-flow.ts';
import type { MatchedOperation } from './openapi-validator.ts';
import type { App } from './state.ts';

export type Credential =
  | { readonly kind: 'app'; readonly app: App }
  | { readonly kind: 'installation'; readonly token: InstallationToken }
  | { readonly kind: 'user'; readonly token: UserToken }
  | { readonly kind: 'none' };

export interface RouteContext<C extends Credential = Credential> {
  readonly request: DoubleRequest;
  readonly operation: MatchedOperation;
  /** Path and query parameters, read as their declared types. */
  readonly params: Readonly<Record<string, Json>>;
  readonly body: Json | undefined;
  readonly credential: C;
}

export type ApiRoute =
  | { readonly auth: 'app'; handle(context: RouteContext<Extract<Credential, { kind: 'app' }>>): DoubleResponse | Promise<DoubleResponse> }
  | {
      readonly auth: 'installation';
      handle(context: RouteContext<Extract<Credential, { kind: 'installation' }>>): DoubleResponse | Promise<DoubleResponse>;
    }
  | { readonly auth: 'user'; handle(context: RouteContext<Extract<Credential, { kind: 'user' }>>): DoubleResponse | Promise<DoubleResponse> };

export type ApiRoutes = Readonly<Record<string, ApiRoute>>;

/** GitHub's page-based pagination: `per_page` (max 100, 30 by default), `page`, and a `Link` header. */
export function paginate<T>(items: readonly T[], context: RouteContext): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(context.params.per_page ?? 30) || 30, 1), 100);
  const page = Math.max(Number(context.params.page ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (n: number, rel: string) => {
    const url = new URL(context.request.url);
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('page', String(n));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}
