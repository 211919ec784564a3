/**
 * The Azure target of the tenant stack: one hard compartment per customer — its own resource
 * group, storage account, Key Vault, managed identity, network, monitoring and Functions app —
 * whose role assignments reach nothing but its own resources. `azureTenantProgram` wraps it as an
 * Automation API inline program returning the outputs contract (`../tenant-outputs.ts`).
 */
import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as resources from '@pulumi/azure-native/resources/index.js';
import { assertTenantId } from '../tenant-id.ts';
import type { TenantProgramOutputs } from '../index.ts';
import { tenantStorageLayout } from '../tenant-outputs.ts';
import { tenantSecretNames } from '../tenant-secrets.ts';
import { HardenedFunctionApp } from './hardened-function-app.ts';
import { HardenedKeyVault } from './hardened-key-vault.ts';
import { HardenedStorage } from './hardened-storage.ts';
import { ManagedIdentity } from './managed-identity.ts';
import { Monitoring } from './monitoring.ts';
import { ServiceNetwork } from './service-network.ts';
import { TenantAccess } from './tenant-access.ts';
import { azureTenantResourceNames, type AzureTenantResourceNames } from './tenant-names.ts';
import { GeneratedTenantSecrets } from './generated-tenant-secrets.ts';
import { tenantTags, type Tags } from './zekt-tags.ts';

export interface TenantCompartmentArgs {
  /** The tenant's id (3–32 lowercase letters, digits, single hyphens); names every resource. */
  readonly tenantId: string;
  /** Short random id (4–12 lowercase letters/digits) fixed when the tenant was first created. */
  readonly creationId: string;
  /** Azure region, e.g. `westeurope`. */
  readonly location: string;
  /** Object id of the control plane's managed identity; gets Key Vault Secrets Officer on the tenant vault. */
  readonly controlPlanePrincipalId: pulumi.Input<string>;
  /**
   * Object id of the shared ingress's managed identity, when it reads the tenant's forward-signing
   * secret from the tenant vault: it gets Key Vault Secrets User on that one secret.
   */
  readonly ingressPrincipalId?: pulumi.Input<string>;
  /** Platform subnets (ingress, provisioning worker) admitted by the tenant vault's firewall. */
  readonly platformSubnetIds?: readonly pulumi.Input<string>[];
  /** Base URL of the shared platform (token broker), given to the tenant runtime. */
  readonly platformBaseUrl?: string;
  /** The broker's Entra audience (application id URI) the tenant identity asks tokens for. */
  readonly brokerAudience?: string;
  /** The tenant app package (`dist/packages/tenant-app`, dependencies installed) deployed to the app. */
  readonly packageDir?: string;
  /** Days a provider message blob is kept before the lifecycle rule deletes it (1–365, default 7). */
  readonly messageRetentionDays?: number;
  /** Days logs and telemetry are kept (30–730, default 30). */
  readonly logRetentionDays?: number;
  /** Most instances the tenant's Functions app scales out to (default 40). */
  readonly maximumInstanceCount?: number;
  /** Extra tags; `zekt:tenant` and `zekt:managed-by` are always set. */
  readonly tags?: Tags;
}

export type { TenantProgramOutputs };

/** Thrown before any resource is declared when an argument is invalid; names the argument. */
export class TenantCompartmentArgsError extends Error {
  override name = 'TenantCompartmentArgsError';
}

function checkArgs(args: TenantCompartmentArgs): AzureTenantResourceNames {
  assertTenantId(args.tenantId);
  let names: AzureTenantResourceNames;
  try {
    names = azureTenantResourceNames(args.tenantId, args.creationId);
  } catch (err) {
    throw new TenantCompartmentArgsError(`creationId: ${(err as Error).message}`, { cause: err });
  }
  if (!/^[a-z][a-z0-9]{2,39}$/.test(args.location)) {
    throw new TenantCompartmentArgsError(`location: ${JSON.stringify(args.location)} is not an Azure region name such as "westeurope"`);
  }
  const range = (option: string, value: number | undefined, min: number, max: number): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      throw new TenantCompartmentArgsError(`${option}: must be an integer from ${min} to ${max}, got ${value}`);
    }
  };
  range('messageRetentionDays', args.messageRetentionDays, 1, 365);
  range('logRetentionDays', args.logRetentionDays, 30, 730);
  range('maximumInstanceCount', args.maximumInstanceCount, 1, 1000);
  if (args.platformBaseUrl !== undefined && !/^https:\/\/[^/]+/.test(args.platformBaseUrl)) {
    throw new TenantCompartmentArgsError(`platformBaseUrl: must be an https URL, got ${JSON.stringify(args.platformBaseUrl)}`);
  }
  return names;
}

export class TenantCompartment extends pulumi.ComponentResource {
  readonly tenantId: pulumi.Output<string>;
  readonly resourceGroupName: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly queueEndpoint: pulumi.Output<string>;
  readonly tableEndpoint: pulumi.Output<string>;
  readonly vaultUri: pulumi.Output<string>;
  readonly identityClientId: pulumi.Output<string>;
  readonly identityPrincipalId: pulumi.Output<string>;
  readonly baseUrl: pulumi.Output<string>;
  readonly webhookUrl: pulumi.Output<string>;
  readonly messagesUrl: pulumi.Output<string>;
  /** Pulumi secrets; kept in the tenant vault, never stack outputs. */
  readonly forwardSigningSecret: pulumi.Output<string>;
  readonly messageEncryptionKey: pulumi.Output<string>;

  constructor(name: string, args: TenantCompartmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:tenant:TenantCompartment', name, {}, opts);
    const names = checkArgs(args);
    const child = { parent: this };
    const tags = tenantTags(args.tenantId, args.tags);
    const location = args.location;
    const client = authorization.getClientConfigOutput(child);

    const group = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: names.resourceGroup, location, tags }, child);
    const resourceGroupName = group.name;
    const placed = { resourceGroupName, location, tags };

    const identity = new ManagedIdentity(`${name}-identity`, { ...placed, identityName: names.identity }, child);

    const storage = new HardenedStorage(
      `${name}-storage`,
      {
        ...placed,
        accountName: names.storageAccount,
        tables: tenantStorageLayout.tables,
        queues: tenantStorageLayout.queues,
        containers: tenantStorageLayout.containers,
        expiringBlobs: [{ rule: 'expire-messages', prefix: 'messages/', days: args.messageRetentionDays ?? 7 }],
      },
      child,
    );

    const net = new ServiceNetwork(
      `${name}-network`,
      {
        ...placed,
        networkName: names.virtualNetwork,
        // Every tenant network is isolated (never peered), so all may use the same range.
        addressSpace: '10.40.0.0/24',
        subnets: [{ name: names.functionsSubnet, addressPrefix: '10.40.0.0/25' }],
      },
      child,
    );
    const functionsSubnetId = net.subnetIds[names.functionsSubnet] as pulumi.Output<string>;

    const secrets = new GeneratedTenantSecrets(`${name}-secrets`, child);
    const vault = new HardenedKeyVault(
      `${name}-vault`,
      {
        ...placed,
        vaultName: names.keyVault,
        entraTenantId: client.tenantId,
        allowedSubnetIds: [functionsSubnetId, ...(args.platformSubnetIds ?? [])],
        secrets: {
          [tenantSecretNames.forwardSigningSecret]: secrets.forwardSigningSecret,
          [tenantSecretNames.messageEncryptionKey]: secrets.messageEncryptionKey,
        },
      },
      child,
    );

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        ...placed,
        workspaceName: names.logAnalyticsWorkspace,
        appInsightsName: names.appInsights,
        ...(args.logRetentionDays ? { retentionInDays: args.logRetentionDays } : {}),
      },
      child,
    );

    const access = new TenantAccess(
      `${name}-access`,
      {
        seed: `${args.tenantId}/${args.creationId}`,
        subscriptionId: client.subscriptionId,
        tenantPrincipalId: identity.principalId,
        storageAccountId: storage.accountId,
        deploymentContainerId: storage.containerIds[names.deploymentContainer] as pulumi.Output<string>,
        vaultId: vault.vaultId,
        appInsightsId: monitoring.appInsightsId,
        controlPlanePrincipalId: args.controlPlanePrincipalId,
        ...(args.ingressPrincipalId
          ? {
              ingress: {
                principalId: args.ingressPrincipalId,
                forwardSigningSecretId: vault.secretIds[tenantSecretNames.forwardSigningSecret] as pulumi.Output<string>,
              },
            }
          : {}),
      },
      child,
    );

    const app = new HardenedFunctionApp(
      `${name}-functions`,
      {
        ...placed,
        planName: names.appServicePlan,
        appName: names.functionApp,
        identity: { id: identity.id, clientId: identity.clientId },
        storage: {
          accountName: storage.accountName,
          blobEndpoint: storage.blobEndpoint,
          deploymentContainer: names.deploymentContainer,
        },
        appInsightsConnectionString: monitoring.connectionString,
        subnetId: functionsSubnetId,
        appSettings: {
          ZEKT_TENANT_ID: args.tenantId,
          ZEKT_TENANT_VAULT_URL: vault.vaultUri,
          ZEKT_STORAGE_ACCOUNT_NAME: storage.accountName,
          ZEKT_STORAGE_ENDPOINT_SUFFIX: storage.endpointSuffix,
          AZURE_CLIENT_ID: identity.clientId,
          ...(args.platformBaseUrl ? { ZEKT_BROKER_URL: args.platformBaseUrl } : {}),
          ...(args.brokerAudience ? { ZEKT_BROKER_AUDIENCE: args.brokerAudience } : {}),
        },
        ...(args.packageDir ? { packageDir: args.packageDir, packageUploadAfter: [access.packageUpload] } : {}),
        ...(args.maximumInstanceCount ? { maximumInstanceCount: args.maximumInstanceCount } : {}),
      },
      // The app starts (and touches its storage and vault) as soon as it exists; let its grants land first.
      { ...child, dependsOn: [access] },
    );

    this.tenantId = pulumi.output(args.tenantId);
    this.resourceGroupName = resourceGroupName;
    this.storageAccountName = storage.accountName;
    this.blobEndpoint = storage.blobEndpoint;
    this.queueEndpoint = storage.queueEndpoint;
    this.tableEndpoint = storage.tableEndpoint;
    this.vaultUri = vault.vaultUri;
    this.identityClientId = identity.clientId;
    this.identityPrincipalId = identity.principalId;
    this.baseUrl = app.baseUrl;
    this.webhookUrl = pulumi.interpolate`${app.baseUrl}/api/webhooks`;
    this.messagesUrl = pulumi.interpolate`${app.baseUrl}/api/messages`;
    this.forwardSigningSecret = secrets.forwardSigningSecret;
    this.messageEncryptionKey = secrets.messageEncryptionKey;
    this.registerOutputs(this.outputs());
  }

  /** The outputs contract, key for key. */
  outputs(): TenantProgramOutputs {
    return {
      tenantId: this.tenantId,
      baseUrl: this.baseUrl,
      webhookUrl: this.webhookUrl,
      messagesUrl: this.messagesUrl,
      vaultUri: this.vaultUri,
      storageAccountName: this.storageAccountName,
      blobEndpoint: this.blobEndpoint,
      queueEndpoint: this.queueEndpoint,
      tableEndpoint: this.tableEndpoint,
      identityClientId: this.identityClientId,
      identityPrincipalId: this.identityPrincipalId,
      resourceGroupName: this.resourceGroupName,
    };
  }
}

/**
 * The tenant stack as an Automation API inline program (`LocalWorkspace.createOrSelectStack({
 * program })`). Arguments are checked now, so a bad one fails before any engine starts.
 */
export function azureTenantProgram(args: TenantCompartmentArgs): () => Promise<TenantProgramOutputs> {
  checkArgs(args);
  return async () => new TenantCompartment(args.tenantId, args).outputs();
}
