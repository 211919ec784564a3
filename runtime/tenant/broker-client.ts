/**
 * How a tenant runtime gets a GitHub installation token: it never holds the App key, so it asks
 * the platform's token broker, proving itself with a token of its own identity (its managed
 * identity on Azure, its local identity locally) for the broker's audience.
 */
import type { TokenCredential } from '@azure/identity';
import type { TokenRequest } from '../identity/token-broker.ts';

export class BrokerRefusedError extends Error {
  override name = 'BrokerRefusedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface InstallationToken {
  readonly token: string;
  readonly expiresAt: string;
  readonly installationId: number;
  readonly repositoryIds: readonly number[];
  readonly permissions: Readonly<Record<string, string>>;
}

export function createBrokerClient(options: { brokerUrl: string; credential: TokenCredential; audience: string; fetch?: typeof fetch }) {
  return {
    /** A token for one purpose (see the broker: it alone decides the repositories and permissions). */
    async installationToken(request: TokenRequest): Promise<InstallationToken> {
      const access = await options.credential.getToken(`${options.audience}/.default`);
      if (!access) throw new BrokerRefusedError(401, 'the identity gave no token for the broker');
      const res = await (options.fetch ?? fetch)(`${options.brokerUrl.replace(/\/$/, '')}/api/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          request.purpose === 'repositories'
            ? { purpose: request.purpose, installation_id: request.installationId }
            : { purpose: request.purpose, repository_id: request.repositoryId },
        ),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (res.status !== 201) throw new BrokerRefusedError(res.status, `the broker refused: ${String(body.error ?? res.status)}`);
      return {
        token: body.token as string,
        expiresAt: body.expires_at as string,
        installationId: body.installation_id as number,
        repositoryIds: body.repository_ids as number[],
        permissions: body.permissions as Record<string, string>,
      };
    },
  };
}
