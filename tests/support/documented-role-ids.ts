/**
 * Azure's built-in role definition ids as Microsoft documents them — the same GUID in every
 * subscription and directory — typed in here from
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles (the "All" table:
 * General, Storage, Security and Monitor sections). Tests take their expected ids from this table,
 * never from `tenant-stack/azure/role-definitions.ts`, so a wrong id there fails a test instead
 * of being mirrored by it.
 */
export const documentedRoleIds = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

export type DocumentedRole = keyof typeof documentedRoleIds;

/** Role name by id, for readable failures (`storageBlobDataOwner @ …`). */
export const documentedRoleOf = new Map<string, DocumentedRole>(
  (Object.entries(documentedRoleIds) as [DocumentedRole, string][]).map(([role, id]) => [id, role]),
);

/**
 * What a tenant stack may assign, as docs/deploy-azure.md states the worker's constrained
 * delegation: the tenant identity's storage, vault and telemetry roles, the control plane's
 * secrets officer role, and its upload of the tenant app package.
 */
export const expectedTenantAssignableRoles: readonly DocumentedRole[] = [
  'storageBlobDataOwner',
  'storageBlobDataContributor',
  'storageQueueDataContributor',
  'storageTableDataContributor',
  'keyVaultSecretsUser',
  'keyVaultSecretsOfficer',
  'monitoringMetricsPublisher',
];
