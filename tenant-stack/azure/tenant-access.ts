/**
 * Every role assignment of a tenant compartment, and nothing else grants access to it. Each one is
 * scoped to a single resource of this tenant (its storage account, vault, Application Insights
 * component or one secret) — never its resource group, the subscription or anything of another
 * tenant — and uses a role from `tenantAssignableRoles`, the list the provisioning worker may delegate.
 */
import * as pulumi from '@pulumi/pulumi';
import { grantRole } from './role-assignment.ts';

export interface TenantAccessArgs {
  /** Tenant and creation id: makes assignment names unique per compartment. */
  readonly seed: string;
  readonly subscriptionId: pulumi.Input<string>;
  /** The tenant's own identity (its Functions app runs as it). */
  readonly tenantPrincipalId: pulumi.Input<string>;
  readonly storageAccountId: pulumi.Input<string>;
  /** The container the tenant's Functions app runs its package from. */
  readonly deploymentContainerId: pulumi.Input<string>;
  readonly vaultId: pulumi.Input<string>;
  readonly appInsightsId: pulumi.Input<string>;
  /** The control plane's identity: manages (rotates, repairs) the tenant's secrets. */
  readonly controlPlanePrincipalId: pulumi.Input<string>;
  /** The shared ingress's identity, reading only the one secret it signs forwarded deliveries with. */
  readonly ingress?: {
    readonly principalId: pulumi.Input<string>;
    readonly forwardSigningSecretId: pulumi.Input<string>;
  };
}

export class TenantAccess extends pulumi.ComponentResource {
  /** The control plane's grant to upload the app package: the package blob is written after it. */
  readonly packageUpload: pulumi.Resource;

  constructor(name: string, args: TenantAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:tenant:TenantAccess', name, {}, opts);
    const child = { parent: this };
    const base = { subscriptionId: args.subscriptionId };
    const tenant = { ...base, principalId: args.tenantPrincipalId };

    // Blob Data Owner rather than Contributor: the Functions host takes blob leases and manages
    // its own containers in `AzureWebJobsStorage`:
    // https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
    grantRole(`${name}-tenant-blob`, args.seed, {
      ...tenant,
      role: 'storageBlobDataOwner',
      scope: args.storageAccountId,
      description: 'Tenant runtime: host storage, messages, deployment package',
    }, child);
    grantRole(`${name}-tenant-queue`, args.seed, {
      ...tenant,
      role: 'storageQueueDataContributor',
      scope: args.storageAccountId,
      description: 'Tenant runtime: delivery queue and its poison queue',
    }, child);
    grantRole(`${name}-tenant-table`, args.seed, {
      ...tenant,
      role: 'storageTableDataContributor',
      scope: args.storageAccountId,
      description: 'Tenant runtime: events, messages, deliveries, subscriptions',
    }, child);
    grantRole(`${name}-tenant-secrets`, args.seed, {
      ...tenant,
      role: 'keyVaultSecretsUser',
      scope: args.vaultId,
      description: "Tenant runtime: reads its own secrets",
    }, child);
    grantRole(`${name}-tenant-telemetry`, args.seed, {
      ...tenant,
      role: 'monitoringMetricsPublisher',
      scope: args.appInsightsId,
      description: 'Tenant runtime: sends telemetry with Entra auth (local auth is off)',
    }, child);
    grantRole(`${name}-control-plane-secrets`, args.seed, {
      ...base,
      principalId: args.controlPlanePrincipalId,
      role: 'keyVaultSecretsOfficer',
      scope: args.vaultId,
      description: "Control plane: manages the tenant's secrets",
    }, child);
    // The worker writes the package blob with its own identity through the blob endpoint (the
    // azure-native provider's Blob resource uses Entra auth; the account takes no shared key).
    // Contributor on that one container: it can neither read the tenant's data nor take leases.
    this.packageUpload = grantRole(`${name}-control-plane-package`, args.seed, {
      ...base,
      principalId: args.controlPlanePrincipalId,
      role: 'storageBlobDataContributor',
      scope: args.deploymentContainerId,
      description: "Control plane: uploads the tenant app package the tenant's Functions app runs",
    }, child);
    if (args.ingress) {
      grantRole(`${name}-ingress-forward-secret`, args.seed, {
        ...base,
        principalId: args.ingress.principalId,
        role: 'keyVaultSecretsUser',
        // One secret, not the vault: the ingress never sees the message encryption key.
        scope: args.ingress.forwardSigningSecretId,
        description: 'Shared ingress: signs forwarded deliveries with the tenant secret',
      }, child);
    }
    this.registerOutputs({});
  }
}
