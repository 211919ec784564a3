/**
 * The token broker: only the platform holds the App's private key; a tenant runtime asks here for
 * an installation token *for a purpose*, and the broker decides what that purpose needs — the
 * tenant never names permissions, so it can never widen them:
 *
 * | purpose | token |
 * | --- | --- |
 * | `dispatch` | `contents: write` on the one repository (GitHub requires it for `repository_dispatch`) |
 * | `subscriptions` | `single_file: read` on the one repository (its `.github/zekt.yml`) |
 * | `repositories` | `metadata: read` on one installation (to list its repositories) |
 *
 * The repository (or installation) must belong to an installation bound to the calling tenant.
 * Tokens come from `@octokit/auth-app`, which caches them per installation, repositories and
 * permissions. Every grant and refusal is audited.
 */
import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { createAppAuth } from '@octokit/auth-app';
import type { Logger } from '../core/logger.ts';
import type { InstallationRegistry } from '../platform/installation-registry.ts';
import { TokenRequestRefusedError } from './identity-errors.ts';

/** Why a tenant runtime needs a token; the broker derives repositories and permissions from it. */
export type TokenRequest =
  | { readonly purpose: 'dispatch' | 'subscriptions'; readonly repositoryId: number }
  | { readonly purpose: 'repositories'; readonly installationId: number };

export type TokenPurpose = TokenRequest['purpose'];

/** The permissions each purpose is granted, and nothing else. */
export const purposePermissions: Readonly<Record<TokenPurpose, Readonly<Record<string, 'read' | 'write'>>>> = {
  dispatch: { contents: 'write' },
  subscriptions: { single_file: 'read' },
  repositories: { metadata: 'read' },
};

export interface TokenGrant {
  readonly token: string;
  readonly expiresAt: string;
  readonly installationId: number;
  readonly repositoryIds: readonly number[];
  readonly permissions: Readonly<Record<string, string>>;
}

export interface TokenBrokerOptions {
  readonly appAuth: () => Promise<ReturnType<typeof createAppAuth>>;
  readonly installations: InstallationRegistry;
  readonly audit: TableClient;
  readonly log: Logger;
  readonly now?: () => Date;
}

export function createTokenBroker(options: TokenBrokerOptions) {
  const now = options.now ?? (() => new Date());

  async function audit(tenantId: string, request: TokenRequest, outcome: 'granted' | 'refused', detail: string, installationId?: number) {
    const at = now().toISOString();
    // Row keys sort by time within a tenant's partition.
    await options.audit.createEntity({
      partitionKey: tenantId,
      rowKey: `${at}-${randomUUID()}`,
      at,
      outcome,
      detail,
      purpose: request.purpose,
      ...('repositoryId' in request ? { repositoryIds: JSON.stringify([request.repositoryId]) } : {}),
      permissions: JSON.stringify(purposePermissions[request.purpose]),
      ...(installationId !== undefined ? { installationId } : {}),
    });
    options.log.info({ tenantId, outcome, detail, purpose: request.purpose, ...('repositoryId' in request ? { repositoryId: request.repositoryId } : { installationId: request.installationId }) }, `token ${outcome}`);
  }

  async function refuse(tenantId: string, request: TokenRequest, reason: string): Promise<never> {
    await audit(tenantId, request, 'refused', reason);
    throw new TokenRequestRefusedError(reason);
  }

  return {
    async mint(tenantId: string, request: TokenRequest): Promise<TokenGrant> {
      const permissions = purposePermissions[request.purpose];
      if (!permissions) return refuse(tenantId, request, `purpose ${String(request.purpose)} is not known`);
      const installations = await options.installations.listForTenant(tenantId);
      const owner =
        'repositoryId' in request
          ? installations.find((i) => i.repositories.some((r) => r.id === request.repositoryId))
          : installations.find((i) => i.installationId === request.installationId);
      if (!owner) return refuse(tenantId, request, 'repositoryId' in request ? 'the repository is not in an installation bound to this tenant' : 'the installation is not bound to this tenant');
      if (owner.suspended) return refuse(tenantId, request, `installation ${owner.installationId} is suspended`);

      const repositoryIds = 'repositoryId' in request ? [request.repositoryId] : [];
      const auth = await options.appAuth();
      const result = await auth({
        type: 'installation',
        installationId: owner.installationId,
        ...(repositoryIds.length > 0 ? { repositoryIds } : {}),
        permissions: { ...permissions },
      });
      await audit(tenantId, request, 'granted', `installation ${owner.installationId}`, owner.installationId);
      return {
        token: result.token,
        expiresAt: result.expiresAt,
        installationId: owner.installationId,
        repositoryIds,
        permissions: result.permissions,
      };
    },
  };
}

export type TokenBroker = ReturnType<typeof createTokenBroker>;
