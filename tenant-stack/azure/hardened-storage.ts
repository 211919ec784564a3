/**
 * A storage account hardened the same way everywhere in Zekt (tenant compartments and the control
 * plane), with its tables, queues, containers and lifecycle rules:
 * StorageV2, HTTPS only, TLS 1.2, no public blob access, no shared key (Entra identities only),
 * infrastructure (double) encryption, no cross-tenant replication, copies only within the tenant.
 */
import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage/index.js';
import type * as inputs from '@pulumi/azure-native/types/input.js';
import type { Tags } from './zekt-tags.ts';

/** Blobs under `prefix` (`<container>/<path>`) are deleted `days` after they were created. */
export interface ExpiringBlobs {
  readonly rule: string;
  readonly prefix: string;
  readonly days: number;
}

/** Versioning and soft delete, for containers whose loss is not acceptable (Pulumi state). */
export interface BlobRecovery {
  /** Days a deleted blob (or container) can be restored. */
  readonly deleteRetentionDays: number;
  /** Days after which a superseded blob version is deleted by the lifecycle policy. */
  readonly versionRetentionDays: number;
}

export interface HardenedStorageArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** 3–24 lowercase letters and digits, globally unique. */
  readonly accountName: string;
  /** `Standard_LRS` unless set. */
  readonly skuName?: string;
  readonly tables: readonly string[];
  readonly queues: readonly string[];
  readonly containers: readonly string[];
  readonly expiringBlobs?: readonly ExpiringBlobs[];
  readonly blobRecovery?: BlobRecovery;
  readonly tags: Tags;
}

/** `https://acct.blob.core.windows.net/` → `core.windows.net` (sovereign clouds differ). */
export function endpointSuffixOf(blobEndpoint: string): string {
  return new URL(blobEndpoint).hostname.split('.').slice(2).join('.');
}

export class HardenedStorage extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly accountId: pulumi.Output<string>;
  readonly accountName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly queueEndpoint: pulumi.Output<string>;
  readonly tableEndpoint: pulumi.Output<string>;
  /** `core.windows.net` in Azure's public cloud; what identity-based clients append to the account name. */
  readonly endpointSuffix: pulumi.Output<string>;
  /** ARM ids of the containers, queues and tables by name, for role assignments scoped to one of them. */
  readonly containerIds: Readonly<Record<string, pulumi.Output<string>>>;
  readonly queueIds: Readonly<Record<string, pulumi.Output<string>>>;
  readonly tableIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: HardenedStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:HardenedStorage', name, {}, opts);
    const child = { parent: this };

    this.account = new storage.StorageAccount(
      `${name}-account`,
      {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: storage.Kind.StorageV2,
        sku: { name: args.skuName ?? storage.SkuName.Standard_LRS },
        accessTier: storage.AccessTier.Hot,
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
        allowBlobPublicAccess: false,
        // Identity only: no account keys, no SAS signed with them, Entra by default in the portal.
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        allowedCopyScope: storage.AllowedCopyScope.AAD,
        isLocalUserEnabled: false,
        isSftpEnabled: false,
        isHnsEnabled: false,
        encryption: {
          keySource: storage.KeySource.Microsoft_Storage,
          // A second, infrastructure-level layer of AES-256; it can only be chosen at creation:
          // https://learn.microsoft.com/azure/storage/common/infrastructure-encryption-enable
          requireInfrastructureEncryption: true,
          // Tables and queues default to a service-scoped key; account-scoped keys cover them too.
          services: {
            blob: { enabled: true, keyType: storage.KeyType.Account },
            file: { enabled: true, keyType: storage.KeyType.Account },
            queue: { enabled: true, keyType: storage.KeyType.Account },
            table: { enabled: true, keyType: storage.KeyType.Account },
          },
        },
        tags: args.tags,
      },
      child,
    );
    this.accountId = this.account.id;
    this.accountName = this.account.name;
    this.blobEndpoint = this.account.primaryEndpoints.blob;
    this.queueEndpoint = this.account.primaryEndpoints.queue;
    this.tableEndpoint = this.account.primaryEndpoints.table;
    this.endpointSuffix = this.blobEndpoint.apply(endpointSuffixOf);

    const scoped = { resourceGroupName: args.resourceGroupName, accountName: this.account.name };
    const blobService = new storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        ...scoped,
        blobServicesName: 'default',
        ...(args.blobRecovery
          ? {
              isVersioningEnabled: true,
              deleteRetentionPolicy: { enabled: true, days: args.blobRecovery.deleteRetentionDays },
              containerDeleteRetentionPolicy: { enabled: true, days: args.blobRecovery.deleteRetentionDays },
            }
          : {}),
      },
      child,
    );

    const containerIds: Record<string, pulumi.Output<string>> = {};
    for (const container of args.containers) {
      containerIds[container] = new storage.BlobContainer(
        `${name}-container-${container}`,
        { ...scoped, containerName: container, publicAccess: storage.PublicAccess.None },
        { ...child, dependsOn: [blobService] },
      ).id;
    }
    const queueIds: Record<string, pulumi.Output<string>> = {};
    for (const queue of args.queues) {
      queueIds[queue] = new storage.Queue(`${name}-queue-${queue}`, { ...scoped, queueName: queue }, child).id;
    }
    const tableIds: Record<string, pulumi.Output<string>> = {};
    for (const table of args.tables) {
      tableIds[table] = new storage.Table(`${name}-table-${table}`, { ...scoped, tableName: table }, child).id;
    }
    this.containerIds = containerIds;
    this.queueIds = queueIds;
    this.tableIds = tableIds;

    const rules: inputs.storage.ManagementPolicyRuleArgs[] = (args.expiringBlobs ?? []).map((expiring) => ({
      name: expiring.rule,
      enabled: true,
      type: storage.RuleType.Lifecycle,
      definition: {
        filters: { blobTypes: ['blockBlob'], prefixMatch: [expiring.prefix] },
        actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: expiring.days } } },
      },
    }));
    if (args.blobRecovery) {
      rules.push({
        name: 'delete-old-versions',
        enabled: true,
        type: storage.RuleType.Lifecycle,
        definition: {
          filters: { blobTypes: ['blockBlob'] },
          actions: { version: { delete: { daysAfterCreationGreaterThan: args.blobRecovery.versionRetentionDays } } },
        },
      });
    }
    if (rules.length > 0) {
      // Lifecycle policies run about once a day, so deletion may lag expiry by up to a day or two:
      // https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview#faq
      new storage.ManagementPolicy(
        `${name}-lifecycle`,
        { ...scoped, managementPolicyName: 'default', policy: { rules } },
        { ...child, dependsOn: [blobService] },
      );
    }

    this.registerOutputs({
      accountId: this.accountId,
      accountName: this.accountName,
      blobEndpoint: this.blobEndpoint,
      queueEndpoint: this.queueEndpoint,
      tableEndpoint: this.tableEndpoint,
    });
  }
}
