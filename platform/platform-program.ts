/**
 * The shared platform on Azure: control-plane storage, platform vault, monitoring, the shared
 * ingress Functions app, the provisioning worker and the guardrails on the tenant subscription.
 * `platformProgram` declares it all and returns the stack outputs; `index.ts` feeds it the config.
 */
import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as resources from '@pulumi/azure-native/resources/index.js';
import { Provider } from '@pulumi/azure-native/provider.js';
import { HardenedStorage } from '../tenant-stack/azure/hardened-storage.ts';
import { Monitoring } from '../tenant-stack/azure/monitoring.ts';
import { ServiceNetwork } from '../tenant-stack/azure/service-network.ts';
import { platformTags } from '../tenant-stack/azure/zekt-tags.ts';
import { githubAppManifest, githubRoutes } from './github-app-manifest.ts';
import { IngressApp } from './ingress-app.ts';
import type { PlatformConfig } from './platform-config.ts';
import { platformResourceNames } from './platform-names.ts';
import { platformStorageLayout, platformStorageResources } from '../runtime/platform/platform-storage-layout.ts';
import { PlatformVault } from './platform-vault.ts';
import { ProvisioningWorker } from './provisioning-worker.ts';
import { TenantGuardrails } from './tenant-guardrails.ts';
import { BrokerApplication } from './broker-application.ts';

/** The ingress app's own deployment package lives next to the control-plane data. */
export const deploymentPackageContainer = 'deployment-package';

export interface PlatformOutputs {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly ingressBaseUrl: pulumi.Output<string>;
  /** Webhook URL of the GitHub App. */
  readonly githubWebhookUrl: pulumi.Output<string>;
  /** OAuth callback URL of the GitHub App. */
  readonly oauthCallbackUrl: pulumi.Output<string>;
  /** Setup URL of the GitHub App (after installation). */
  readonly setupUrl: pulumi.Output<string>;
  /** `github-app/manifest.json` with this deployment's URLs (JSON). */
  readonly githubAppManifest: pulumi.Output<string>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly platformVaultUri: pulumi.Output<string>;
  /** Pulumi backend of the tenant stacks (with `AZURE_STORAGE_ACCOUNT` = `storageAccountName`). */
  readonly pulumiBackendUrl: pulumi.Output<string>;
  readonly pulumiSecretsProvider: pulumi.Output<string>;
  readonly controlPlanePrincipalId: pulumi.Output<string>;
  readonly ingressPrincipalId: pulumi.Output<string>;
  readonly platformSubnetIds: pulumi.Output<string[]>;
  readonly provisioningJobName: pulumi.Output<string>;
  /** What tenant identities ask Entra tokens for (`api://<client id>` of the broker's application). */
  readonly brokerAudience: pulumi.Output<string>;
}

export function platformProgram(config: PlatformConfig): PlatformOutputs {
  const names = platformResourceNames(config.environment);
  const tags = platformTags(config.environment);
  const location = config.location;
  const seed = `zekt-platform/${config.environment}`;
  const client = authorization.getClientConfigOutput();
  const tenantSubscriptionId = config.tenantSubscriptionId ?? client.subscriptionId;

  const group = new resources.ResourceGroup('platform-rg', { resourceGroupName: names.resourceGroup, location, tags });
  const placed = { resourceGroupName: group.name, location, tags };

  const network = new ServiceNetwork('platform-network', {
    ...placed,
    networkName: names.virtualNetwork,
    addressSpace: '10.30.0.0/22',
    subnets: [
      { name: 'ingress', addressPrefix: '10.30.0.0/24' },
      { name: 'worker', addressPrefix: '10.30.1.0/24' },
    ],
  });
  const ingressSubnetId = network.subnetIds.ingress as pulumi.Output<string>;
  const workerSubnetId = network.subnetIds.worker as pulumi.Output<string>;
  const platformSubnetIds = [ingressSubnetId, workerSubnetId];

  const monitoring = new Monitoring('platform-monitoring', {
    ...placed,
    workspaceName: names.logAnalyticsWorkspace,
    appInsightsName: names.appInsights,
    retentionInDays: config.logRetentionDays,
  });

  // The same tables, queues (with their poison queues) and containers the runtime uses.
  const layout = platformStorageLayout;
  const storage = new HardenedStorage('platform-storage', {
    ...placed,
    accountName: names.storageAccount,
    skuName: config.storageSku,
    tables: platformStorageResources.tables,
    queues: platformStorageResources.queues,
    containers: [...platformStorageResources.containers, deploymentPackageContainer],
    expiringBlobs: [
      { rule: 'expire-webhook-payloads', prefix: `${layout.containers.webhookPayloads}/`, days: config.webhookPayloadRetentionDays },
    ],
    // Pulumi state must survive a bad write or delete: versions for 90 days, deleted blobs for 7.
    blobRecovery: { deleteRetentionDays: 7, versionRetentionDays: 90 },
  });

  const vault = new PlatformVault('platform-vault', {
    ...placed,
    vaultName: names.keyVault,
    keyName: names.secretsProviderKey,
    entraTenantId: client.tenantId,
    allowedSubnetIds: platformSubnetIds,
    allowedIpRanges: config.allowedIpRanges,
    secrets: {
      githubAppPrivateKey: config.githubAppPrivateKey,
      githubWebhookSecret: config.githubWebhookSecret,
      ...(config.githubWebhookSecretPrevious ? { githubWebhookSecretPrevious: config.githubWebhookSecretPrevious } : {}),
      githubClientSecret: config.githubClientSecret,
      sessionKey: config.sessionKey,
    },
  });

  const broker = new BrokerApplication('platform-broker', { displayName: `Zekt token broker (${config.environment})` });

  const ingress = new IngressApp('platform-ingress', {
    ...placed,
    names: { identity: names.ingressIdentity, plan: names.appServicePlan, app: names.functionApp },
    seed,
    subscriptionId: client.subscriptionId,
    storage: {
      accountId: storage.accountId,
      accountName: storage.accountName,
      blobEndpoint: storage.blobEndpoint,
      endpointSuffix: storage.endpointSuffix,
      deploymentContainer: deploymentPackageContainer,
      protectedContainer: layout.containers.pulumiState,
    },
    vault: { id: vault.vaultId, uri: vault.vaultUri },
    monitoring: { appInsightsId: monitoring.appInsightsId, connectionString: monitoring.connectionString },
    subnetId: ingressSubnetId,
    ...(config.publicBaseUrl ? { publicBaseUrl: config.publicBaseUrl } : {}),
    githubAppId: config.githubAppId,
    githubClientId: config.githubClientId,
    entraTenantId: client.tenantId,
    broker: { audience: broker.audience, clientId: broker.clientId },
    packageDir: config.platformPackageDir,
  });

  const worker = new ProvisioningWorker('platform-provisioner', {
    ...placed,
    names: {
      identity: names.workerIdentity,
      environment: names.containerAppsEnvironment,
      job: names.provisioningJob,
      provisionerRole: names.provisionerRole,
      subnetJoinerRole: names.subnetJoinerRole,
    },
    seed,
    platformSubscriptionId: client.subscriptionId,
    tenantSubscriptionId,
    entraTenantId: client.tenantId,
    subnetId: workerSubnetId,
    platformSubnetIds,
    workspaceId: monitoring.workspaceId,
    storage: {
      accountName: storage.accountName,
      endpointSuffix: storage.endpointSuffix,
      stateContainer: layout.containers.pulumiState,
      stateContainerId: storage.containerIds[layout.containers.pulumiState] as pulumi.Output<string>,
      provisioningQueue: layout.queues.provisioning,
      queueIds: [layout.queues.provisioning, `${layout.queues.provisioning}-poison`].map((q) => storage.queueIds[q] as pulumi.Output<string>),
      registryTableId: storage.tableIds[layout.tables.tenants] as pulumi.Output<string>,
    },
    secretsProvider: { keyId: vault.keyId, url: vault.secretsProviderUrl },
    image: config.workerImage,
    ...(config.workerRegistryServer ? { registryServer: config.workerRegistryServer } : {}),
    maxExecutions: config.provisioningMaxExecutions,
    ingressPrincipalId: ingress.principalId,
    publicBaseUrl: ingress.baseUrl,
    brokerAudience: broker.audience,
  });

  // Policy definitions live in the subscription they guard; another subscription needs its own provider.
  const tenantProvider = config.tenantSubscriptionId
    ? new Provider('tenant-subscription', { subscriptionId: config.tenantSubscriptionId, location })
    : undefined;
  new TenantGuardrails(
    'platform-guardrails',
    { environment: config.environment, subscriptionScope: pulumi.interpolate`/subscriptions/${tenantSubscriptionId}` },
    tenantProvider ? { providers: { 'azure-native': tenantProvider } } : {},
  );

  const base = ingress.baseUrl;
  return {
    resourceGroupName: group.name,
    ingressBaseUrl: base,
    githubWebhookUrl: pulumi.interpolate`${base}${githubRoutes.webhooks}`,
    oauthCallbackUrl: pulumi.interpolate`${base}${githubRoutes.oauthCallback}`,
    setupUrl: pulumi.interpolate`${base}${githubRoutes.setup}`,
    githubAppManifest: base.apply((url) => JSON.stringify(githubAppManifest(url), null, 2)),
    storageAccountName: storage.accountName,
    platformVaultUri: vault.vaultUri,
    pulumiBackendUrl: pulumi.output(`azblob://${layout.containers.pulumiState}`),
    pulumiSecretsProvider: vault.secretsProviderUrl,
    controlPlanePrincipalId: worker.principalId,
    ingressPrincipalId: ingress.principalId,
    platformSubnetIds: pulumi.all(platformSubnetIds),
    provisioningJobName: worker.jobName,
    brokerAudience: broker.audience,
  };
}
