/**
 * The OIDC audience a tenant's runs ask GitHub for (`getIDToken(audience)`): `zekt:<tenantId>`.
 * Named after the tenant, not its URL, so it stays the same when the runtime moves (a new local
 * port, a new Azure host name) and workflows never need editing; one tenant's audience never
 * verifies at another tenant's runtime. The owner sees it next to the messages URL
 * (`GET /api/tenants/me`, `zekt tenants show`).
 */
export function messageAudienceOf(tenantId: string): string {
  return `zekt:${tenantId}`;
}
