/**
 * `POST /api/tokens`: the token broker's HTTP edge. Body: `{ "purpose": "dispatch" |
 * "subscriptions", "repository_id": N }` or `{ "purpose": "repositories", "installation_id": N }`
 * (see token-broker.ts for what each grants). Answers 201 with the token and its expiry — the only
 * response in Zekt that carries a GitHub token, and never cached.
 */
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { BadRequestError } from './identity-errors.ts';
import { identityErrorResponse, noStore } from './identity-responses.ts';
import type { TokenBroker } from './token-broker.ts';

const id = z.number().int().positive();
const body = z.discriminatedUnion('purpose', [
  z.object({ purpose: z.enum(['dispatch', 'subscriptions']), repository_id: id }).strict(),
  z.object({ purpose: z.literal('repositories'), installation_id: id }).strict(),
]);

export function createBrokerHandler(deps: { authenticate: (authorization: string | null) => Promise<string>; broker: TokenBroker }): HttpHandler {
  return async (request, context) => {
    try {
      // Authentication before the body is read.
      const tenantId = await deps.authenticate(request.headers.get('authorization'));
      let parsed: z.infer<typeof body>;
      try {
        parsed = body.parse(JSON.parse(await request.text()));
      } catch (err) {
        throw new BadRequestError('body must be {"purpose": "dispatch"|"subscriptions", "repository_id": id} or {"purpose": "repositories", "installation_id": id}', { cause: err });
      }
      const grant = await deps.broker.mint(
        tenantId,
        parsed.purpose === 'repositories' ? { purpose: parsed.purpose, installationId: parsed.installation_id } : { purpose: parsed.purpose, repositoryId: parsed.repository_id },
      );
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
