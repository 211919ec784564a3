/**
 * Identity's HTTP answers for failures: the one mapping (functions/http-errors.ts) with
 * `Cache-Control: no-store` on every response. Bodies name the reason, never a token.
 */
import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { httpErrorResponse } from '../functions/http-errors.ts';

export const noStore = { 'cache-control': 'no-store' } as const;

export function identityErrorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  return httpErrorResponse(err, context, noStore);
}
