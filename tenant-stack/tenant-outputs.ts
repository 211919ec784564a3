/**
 * The outputs contract of a tenant stack: what the control plane stores in the tenant registry.
 * Both targets (`azure`, `local`) return exactly these keys; none of them is a secret.
 */
export interface TenantStackOutputs {
  readonly tenantId: string;
  /** Base URL of the tenant's Functions app (`https://…` on Azure, `http://127.0.0.1:port` locally). */
  readonly baseUrl: string;
  /** Where the shared ingress forwards GitHub deliveries (`<baseUrl>/api/webhooks`). */
  readonly webhookUrl: string;
  /** Where provider workflows post messages (`<baseUrl>/api/messages`). */
  readonly messagesUrl: string;
  readonly vaultUri: string;
  readonly storageAccountName: string;
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  readonly identityClientId: string;
  readonly identityPrincipalId: string;
  readonly resourceGroupName: string;
}

export const tenantOutputKeys = [
  'tenantId',
  'baseUrl',
  'webhookUrl',
  'messagesUrl',
  'vaultUri',
  'storageAccountName',
  'blobEndpoint',
  'queueEndpoint',
  'tableEndpoint',
  'identityClientId',
  'identityPrincipalId',
  'resourceGroupName',
] as const satisfies readonly (keyof TenantStackOutputs)[];

/** Tables, queues and containers every tenant compartment has, on both targets. */
export const tenantStorageLayout = {
  tables: ['events', 'messages', 'deliveries', 'subscriptions'],
  queues: ['deliveries', 'deliveries-poison', 'subscriptions-sync', 'subscriptions-sync-poison'],
  containers: ['messages', 'deployment-package'],
} as const;
