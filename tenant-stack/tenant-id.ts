/**
 * Tenant ids name Azure resources, Pulumi stacks and storage accounts, so they are checked before
 * they name anything: 3–32 characters, lowercase letters, digits and single hyphens, starting
 * with a letter and ending with a letter or digit.
 */
export const tenantIdPattern = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,31}$/;

export class InvalidTenantIdError extends Error {
  override name = 'InvalidTenantIdError';
}

export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !tenantIdPattern.test(tenantId)) {
    throw new InvalidTenantIdError(
      `invalid tenant id ${JSON.stringify(tenantId)}: use 3-32 lowercase letters, digits and single hyphens, starting with a letter`,
    );
  }
}

/** The Pulumi stack of a tenant. */
export function tenantStackName(tenantId: string): string {
  assertTenantId(tenantId);
  return `tenant-${tenantId}`;
}
