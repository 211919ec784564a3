/**
 * The Azure built-in roles Zekt assigns, by their well-known ids (the same GUID in every
 * subscription and tenant). Each assignment Zekt makes uses one of these; the policy pack, the
 * provisioning worker's constrained delegation and the tests all read this one list.
 *
 * Sources:
 * - storage: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage
 * - Key Vault: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
 * - monitor: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor
 */
export const builtInRoles = {
  /** Blob data incl. leases; the Functions host needs it for `AzureWebJobsStorage`. */
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  /** Wrap/unwrap with a key: what the `azurekeyvault://` secrets provider does. */
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  /**
   * Needed to send telemetry to an Application Insights component whose local (key) auth is off:
   * https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
   */
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

export type BuiltInRole = keyof typeof builtInRoles;

/**
 * The roles a tenant stack may assign, and so the only roles the provisioning worker may delegate
 * (its constrained delegation lists exactly these).
 */
export const tenantAssignableRoles = [
  'storageBlobDataOwner',
  // The control plane's upload of the tenant app package, on the deployment container only.
  'storageBlobDataContributor',
  'storageQueueDataContributor',
  'storageTableDataContributor',
  'keyVaultSecretsUser',
  'keyVaultSecretsOfficer',
  'monitoringMetricsPublisher',
] as const satisfies readonly BuiltInRole[];

/** Every built-in role either program assigns; anything else fails the policy pack. */
export const zektAssignableRoles = Object.keys(builtInRoles) as BuiltInRole[];

/** The subscription-scoped id ARM expects in `roleDefinitionId`. */
export function roleDefinitionId(subscriptionId: string, role: BuiltInRole): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoles[role]}`;
}

/** The GUID at the end of a role definition id (either the subscription or the tenant form), lowercased. */
export function roleGuidOf(id: string): string {
  return (id.split('/').pop() ?? '').toLowerCase();
}

/** The built-in role a role definition id names, if it is one Zekt knows. */
export function builtInRoleOf(id: string): BuiltInRole | undefined {
  const guid = roleGuidOf(id);
  return (Object.keys(builtInRoles) as BuiltInRole[]).find((role) => builtInRoles[role] === guid);
}
