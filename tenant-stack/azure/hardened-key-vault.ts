/**
 * A Key Vault hardened the same way everywhere in Zekt: Azure RBAC (no access policies), purge
 * protection, soft delete with a set retention, and a firewall that denies by default — only the
 * listed subnets (service endpoints) and IP ranges, and trusted Azure services, reach its data plane.
 * Its secrets are created through ARM, which the firewall does not filter (it guards the data plane):
 * https://learn.microsoft.com/azure/key-vault/general/network-security
 */
import * as pulumi from '@pulumi/pulumi';
import * as keyvault from '@pulumi/azure-native/keyvault/index.js';
import type { Tags } from './zekt-tags.ts';

export interface HardenedKeyVaultArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** 3–24 letters, digits and hyphens, globally unique; reserved while soft-deleted. */
  readonly vaultName: string;
  /** The Entra tenant whose identities the vault trusts. */
  readonly entraTenantId: pulumi.Input<string>;
  /** Days a deleted vault or secret stays recoverable (7–90; fixed once set). Default 90. */
  readonly softDeleteRetentionInDays?: number;
  /** Subnets (with the `Microsoft.KeyVault` service endpoint) whose traffic passes the firewall. */
  readonly allowedSubnetIds?: readonly pulumi.Input<string>[];
  /** Public IPv4 ranges (CIDR) that pass the firewall, e.g. an operator's break-glass address. */
  readonly allowedIpRanges?: readonly string[];
  /** Secrets to create, by secret name; values are stored as Pulumi secrets whatever they come as. */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly tags: Tags;
}

export class HardenedKeyVault extends pulumi.ComponentResource {
  readonly vault: keyvault.Vault;
  readonly vaultId: pulumi.Output<string>;
  readonly vaultName: pulumi.Output<string>;
  readonly vaultUri: pulumi.Output<string>;
  /** ARM ids of the created secrets by name, for role assignments scoped to a single secret. */
  readonly secretIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: HardenedKeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:HardenedKeyVault', name, {}, opts);
    const child = { parent: this };

    this.vault = new keyvault.Vault(
      `${name}-vault`,
      {
        vaultName: args.vaultName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        properties: {
          tenantId: args.entraTenantId,
          sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: args.softDeleteRetentionInDays ?? 90,
          // Purge protection cannot be turned off again: a deleted vault and its secrets stay
          // recoverable for the whole retention, even against an operator with Owner.
          enablePurgeProtection: true,
          enabledForDeployment: false,
          enabledForDiskEncryption: false,
          enabledForTemplateDeployment: false,
          publicNetworkAccess: 'Enabled',
          networkAcls: {
            defaultAction: keyvault.NetworkRuleAction.Deny,
            bypass: keyvault.NetworkRuleBypassOptions.AzureServices,
            virtualNetworkRules: (args.allowedSubnetIds ?? []).map((id) => ({ id, ignoreMissingVnetServiceEndpoint: false })),
            ipRules: (args.allowedIpRanges ?? []).map((value) => ({ value })),
          },
        },
        tags: args.tags,
      },
      child,
    );
    this.vaultId = this.vault.id;
    this.vaultName = this.vault.name;
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? '');

    const secretIds: Record<string, pulumi.Output<string>> = {};
    for (const [secretName, value] of Object.entries(args.secrets ?? {})) {
      secretIds[secretName] = new keyvault.Secret(
        `${name}-secret-${secretName}`,
        {
          secretName,
          vaultName: this.vault.name,
          resourceGroupName: args.resourceGroupName,
          properties: { value: pulumi.secret(value), attributes: { enabled: true } },
          tags: args.tags,
        },
        child,
      ).id;
    }
    this.secretIds = secretIds;

    this.registerOutputs({ vaultId: this.vaultId, vaultName: this.vaultName, vaultUri: this.vaultUri });
  }
}
