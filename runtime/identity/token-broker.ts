/**
 * The token broker: only the platform holds the App's private key; a tenant runtime asks here for
 * an installation token and gets one minted for exactly the repositories and permissions of its
 * call — every repository in an installation bound to that tenant, every permission in the allowed
 * set — through `@octokit/auth-app` (which caches tokens per installation, repositories and
 * permissions). Every grant and refusal is audited.
 */
import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { createAppAuth } from '@octokit/auth-app';
import type { Logger } from '../core/logger.ts';
import type { InstallationRegistry } from '../platform/installation-registry.ts';
import { TokenRequestRefusedError } from './identity-errors.ts';

/** What a tenant may ask for: dispatch, read `.github/zekt.yml`, read workflow runs. */
export const grantablePermissions: Readonly<Record<string, readonly ('read' | 'write')[]>> = {
  contents: ['read', 'write'],
  single_file: ['read'],
  actions: ['read'],
  metadata: ['read'],
};

export interface TokenRequest {
  readonly repositoryIds: readonly number[];
  readonly permissions: Readonly<Record<string, string>>;
}

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
      repositoryIds: JSON.stringify(request.repositoryIds),
      permissions: JSON.stringify(request.permissions),
      ...(installationId !== undefined ? { installationId } : {}),
    });
    options.log.info({ tenantId, outcome, detail, repositoryIds: request.repositoryIds, permissions: request.permissions }, `token ${outcome}`);
  }

  async function refuse(tenantId: string, request: TokenRequest, reason: string): Promise<never> {
    await audit(tenantId, request, 'refused', reason);
    throw new TokenRequestRefusedError(reason);
  }

  return {
    async mint(tenantId: string, request: TokenRequest): Promise<TokenGrant> {
      for (const [name, level] of Object.entries(request.permissions)) {
        if (!grantablePermissions[name]?.includes(level as 'read' | 'write')) {
          return refuse(tenantId, request, `permission ${name}: ${level} is not grantable`);
        }
      }
      const installations = await options.installations.listForTenant(tenantId);
      const owner = installations.find((i) => request.repositoryIds.every((id) => i.repositories.some((r) => r.id === id)));
      if (!owner) return refuse(tenantId, request, 'a repository is not in an installation bound to this tenant');
      if (owner.suspended) return refuse(tenantId, request, `installation ${owner.installationId} is suspended`);

      const auth = await options.appAuth();
      const result = await auth({
        type: 'installation',
        installationId: owner.installationId,
        repositoryIds: [...request.repositoryIds],
        permissions: { ...request.permissions },
      });
      await audit(tenantId, request, 'granted', `installation ${owner.installationId}`, owner.installationId);
      return {
        token: result.token,
        expiresAt: result.expiresAt,
        installationId: owner.installationId,
        repositoryIds: request.repositoryIds,
        permissions: result.permissions,
      };
    },
  };
}

export type TokenBroker = ReturnType<typeof createTokenBroker>;
