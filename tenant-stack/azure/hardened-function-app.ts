/**
 * A Functions app on the Flex Consumption plan (FC1, Linux, Node 22), hardened the same way for
 * the tenant runtime and the shared ingress: HTTPS only, TLS 1.2 on the site and its SCM (Kudu)
 * endpoint, FTP(S) off, basic-auth publishing off for both FTP and SCM, host storage and the
 * deployment package reached with the user-assigned identity (no connection string), telemetry
 * sent with Entra auth. App settings carry names, endpoints and ids — never a secret.
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to
 */
import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage/index.js';
import * as web from '@pulumi/azure-native/web/index.js';
import type { Tags } from './zekt-tags.ts';

/**
 * The blob (in the deployment container) that holds the app's zipped package. Flex Consumption
 * deploys code through one deploy (not zip deploy), which keeps the package it deploys in the
 * app's deployment container under this name; the app runs from that package (no
 * `WEBSITE_RUN_FROM_PACKAGE` on this plan). Writing the zip there under the same name deploys it
 * without a call to one deploy.
 */
export const deploymentPackageBlobName = 'released-package.zip';

export interface HardenedFunctionAppArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly planName: string;
  /** 2–60 letters, digits and hyphens, globally unique (it is the `*.azurewebsites.net` host). */
  readonly appName: string;
  readonly identity: { readonly id: pulumi.Input<string>; readonly clientId: pulumi.Input<string> };
  /** The account holding the host's state (`AzureWebJobsStorage`) and the deployment package. */
  readonly storage: {
    readonly accountName: pulumi.Input<string>;
    readonly blobEndpoint: pulumi.Input<string>;
    readonly deploymentContainer: string;
  };
  readonly appInsightsConnectionString: pulumi.Input<string>;
  /** Subnet (delegated to `Microsoft.App/environments`) the app's outbound traffic leaves from. */
  readonly subnetId?: pulumi.Input<string>;
  /** Settings for the code: endpoints, names, ids. Must hold no secret (the tests check). */
  readonly appSettings: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The app's code: a folder built by `npm run build` (`dist/packages/<name>`, production
   * dependencies installed), uploaded zipped into the deployment container the app runs from.
   */
  readonly packageDir?: string;
  /** What must exist before the package is uploaded (the uploader's grant on the container). */
  readonly packageUploadAfter?: readonly pulumi.Resource[];
  /** Default 40 (Flex Consumption allows up to 1000). */
  readonly maximumInstanceCount?: number;
  /** 2048 or 4096. Default 2048. */
  readonly instanceMemoryMB?: number;
  readonly tags: Tags;
}

export class HardenedFunctionApp extends pulumi.ComponentResource {
  readonly siteId: pulumi.Output<string>;
  readonly defaultHostName: pulumi.Output<string>;
  /** `https://<defaultHostName>` */
  readonly baseUrl: pulumi.Output<string>;

  constructor(name: string, args: HardenedFunctionAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:HardenedFunctionApp', name, {}, opts);
    const child = { parent: this };

    const plan = new web.AppServicePlan(
      `${name}-plan`,
      {
        name: args.planName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'functionapp',
        sku: { name: 'FC1', tier: 'FlexConsumption' },
        // Linux.
        reserved: true,
        tags: args.tags,
      },
      child,
    );

    const settings: Record<string, pulumi.Input<string>> = {
      ...args.appSettings,
      // Identity-based host storage; the host derives the blob/queue/table URIs from the name:
      // https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
      AzureWebJobsStorage__accountName: args.storage.accountName,
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: args.identity.clientId,
      APPLICATIONINSIGHTS_CONNECTION_STRING: args.appInsightsConnectionString,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: pulumi.interpolate`Authorization=AAD;ClientId=${args.identity.clientId}`,
    };

    const site = new web.WebApp(
      `${name}-site`,
      {
        name: args.appName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'functionapp,linux',
        serverFarmId: plan.id,
        httpsOnly: true,
        clientCertEnabled: false,
        identity: { type: web.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [args.identity.id] },
        keyVaultReferenceIdentity: args.identity.id,
        ...(args.subnetId ? { virtualNetworkSubnetId: args.subnetId } : {}),
        siteConfig: {
          minTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
          scmMinTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
          ftpsState: web.FtpsState.Disabled,
          http20Enabled: true,
          remoteDebuggingEnabled: false,
          appSettings: Object.entries(settings).map(([settingName, value]) => ({ name: settingName, value })),
        },
        functionAppConfig: {
          deployment: {
            storage: {
              type: web.FunctionsDeploymentStorageType.BlobContainer,
              value: pulumi.interpolate`${args.storage.blobEndpoint}${args.storage.deploymentContainer}`,
              authentication: {
                type: web.AuthenticationType.UserAssignedIdentity,
                userAssignedIdentityResourceId: args.identity.id,
              },
            },
          },
          runtime: { name: web.RuntimeName.Node, version: '22' },
          scaleAndConcurrency: {
            maximumInstanceCount: args.maximumInstanceCount ?? 40,
            instanceMemoryMB: args.instanceMemoryMB ?? 2048,
          },
        },
        tags: args.tags,
      },
      child,
    );

    // Basic-auth (publishing profile) credentials off for both endpoints; deployments go through
    // Entra: https://learn.microsoft.com/azure/app-service/configure-basic-auth-disable
    const scoped = { name: site.name, resourceGroupName: args.resourceGroupName };
    new web.WebAppFtpAllowed(`${name}-ftp-basic-auth`, { ...scoped, allow: false }, child);
    new web.WebAppScmAllowed(`${name}-scm-basic-auth`, { ...scoped, allow: false }, child);

    if (args.packageDir) {
      // One deploy's own name for the package (see deploymentPackageBlobName).
      new storage.Blob(
        `${name}-package`,
        {
          resourceGroupName: args.resourceGroupName,
          accountName: args.storage.accountName,
          containerName: args.storage.deploymentContainer,
          blobName: deploymentPackageBlobName,
          type: storage.BlobType.Block,
          contentType: 'application/zip',
          source: new pulumi.asset.FileArchive(args.packageDir),
        },
        { ...child, dependsOn: [...(args.packageUploadAfter ?? [])] },
      );
    }

    this.siteId = site.id;
    this.defaultHostName = site.defaultHostName;
    this.baseUrl = pulumi.interpolate`https://${site.defaultHostName}`;
    this.registerOutputs({ siteId: this.siteId, defaultHostName: this.defaultHostName, baseUrl: this.baseUrl });
  }
}
