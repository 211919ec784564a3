/**
 * `POST /api/tokens`: the token broker's HTTP edge. Body: `{ "repository_ids": [..], "permissions":
 * { "contents": "write" } }`. Answers 201 with the token and its expiry — the only response in Zekt
 * that carries a GitHub token, and never cached.
 */
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { BadRequestError } from './identity-errors.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { TokenBroker } from './token-broker.ts';

const body = z
  .object({
    // GitHub accepts up to 500 repositories per installation token.
    repository_ids: z.array(z.number().int().positive()).min(1).max(500),
    permissions: z.record(z.string().regex(/^[a-z_]{1,64}$/), z.enum(['read', 'write'])).refine((p) => Object.keys(p).length > 0, 'name at least one permission'),
  })
  .strict();

export function createBrokerHandler(deps: { authenticate: (authorization: string | null) => Promise<string>; broker: TokenBroker }): HttpHandler {
  return async (request, context) => {
    try {
      // Authentication before the body is read.
      const tenantId = await deps.authenticate(request.headers.get('authorization'));
      let parsed: z.infer<typeof body>;
      try {
        parsed = body.parse(JSON.parse(await request.text()));
      } catch (err) {
        throw new BadRequestError('body must be {"repository_ids": [ids], "permissions": {name: "read"|"write"}}', { cause: err });
      }
      const grant = await deps.broker.mint(tenantId, { repositoryIds: parsed.repository_ids, permissions: parsed.permissions });
      return {
        status: 201,
        headers: { ...noStore },
        jsonBody: {
          token: grant.token,
          expires_at: grant.expiresAt,
          installation_id: grant.installationId,
          repository_ids: grant.repositoryIds,
          permissions: grant.permissions,
        },
      };
    } catch (err) {
      return identityErrorResponse(err, context);
    }
  };
}
