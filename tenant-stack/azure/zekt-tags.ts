/**
 * Tags every Zekt resource carries, so an operator (and the policy pack) can tell whose a resource
 * is and what manages it: `zekt:tenant` on everything of a tenant compartment, `zekt:managed-by`
 * everywhere.
 */
export const tagKeys = {
  tenant: 'zekt:tenant',
  managedBy: 'zekt:managed-by',
  environment: 'zekt:environment',
} as const;

export type Tags = Readonly<Record<string, string>>;

/** Tags of a tenant compartment; Zekt's own keys win over caller-supplied ones. */
export function tenantTags(tenantId: string, extra: Tags = {}): Tags {
  return { ...extra, [tagKeys.tenant]: tenantId, [tagKeys.managedBy]: 'zekt-control-plane' };
}

/** Tags of the shared platform. */
export function platformTags(environment: string, extra: Tags = {}): Tags {
  return { ...extra, [tagKeys.environment]: environment, [tagKeys.managedBy]: 'zekt-platform' };
}
