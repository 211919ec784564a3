/**
 * The shared ingress: one Functions app (hardened like every tenant's) that receives GitHub's
 * webhooks, serves sign-in and installation binding, and forwards deliveries to tenants. Its own
 * identity is granted only on platform resources: the control-plane storage account (minus the
 * Pulumi state container), the platform vault's secrets and the platform's telemetry.
 */
import * as pulumi from '@pulumi/pulumi';
import { HardenedFunctionApp } from '../tenant-stack/azure/hardened-function-app.ts';
import { ManagedIdentity } from '../tenant-stack/azure/managed-identity.ts';
import { grantRole } from '../tenant-stack/azure/role-assignment.ts';
import type { Tags } from '../tenant-stack/azure/zekt-tags.ts';
import { excludeContainerCondition } from './role-conditions.ts';
import { platformNodeArguments } from '../runtime/platform/node-arguments.ts';

export interface IngressAppArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly names: { readonly identity: string; readonly plan: string; readonly app: string };
  /** Seed of role assignment names (the environment). */
  readonly seed: string;
  readonly subscriptionId: pulumi.Input<string>;
  readonly storage: {
    readonly accountId: pulumi.Input<string>;
    readonly accountName: pulumi.Input<string>;
    readonly blobEndpoint: pulumi.Input<string>;
    readonly endpointSuffix: pulumi.Input<string>;
    readonly deploymentContainer: string;
    /** The container the ingress must not reach (Pulumi state). */
    readonly protectedContainer: string;
  };
  readonly vault: { readonly id: pulumi.Input<string>; readonly uri: pulumi.Input<string> };
  readonly monitoring: { readonly appInsightsId: pulumi.Input<string>; readonly connectionString: pulumi.Input<string> };
  readonly subnetId: pulumi.Input<string>;
  /** The public base URL, when it is not the app's own host name (custom domain). */
  readonly publicBaseUrl?: string;
  readonly githubAppId: string;
  readonly githubClientId: string;
  /** The directory whose managed-identity tokens the broker accepts. */
  readonly entraTenantId: pulumi.Input<string>;
  /** The broker's Entra application: tokens name it in `aud` (v1: the URI; v2: the client id). */
  readonly broker: { readonly audience: pulumi.Input<string>; readonly clientId: pulumi.Input<string> };
  /** The platform app package (`dist/packages/platform-app`, dependencies installed). */
  readonly packageDir?: string;
  readonly tags: Tags;
}

export class IngressApp extends pulumi.ComponentResource {
  readonly principalId: pulumi.Output<string>;
  readonly baseUrl: pulumi.Output<string>;

  constructor(name: string, args: IngressAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:platform:IngressApp', name, {}, opts);
    const child = { parent: this };
    const placed = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
    const identity = new ManagedIdentity(`${name}-identity`, { ...placed, identityName: args.names.identity }, child);
    const grant = { subscriptionId: args.subscriptionId, principalId: identity.principalId };

    const grants = [
      grantRole(`${name}-blob`, args.seed, {
        ...grant,
        role: 'storageBlobDataOwner',
        scope: args.storage.accountId,
        // Owner for the Functions host (leases, its own containers), but not over Pulumi state.
        condition: excludeContainerCondition(args.storage.protectedContainer),
        description: 'Ingress: host storage and webhook payloads, not Pulumi state',
      }, child),
      grantRole(`${name}-queue`, args.seed, {
        ...grant,
        role: 'storageQueueDataContributor',
        scope: args.storage.accountId,
        description: 'Ingress: enqueues provisioning, consumes ingress deliveries',
      }, child),
      grantRole(`${name}-table`, args.seed, {
        ...grant,
        role: 'storageTableDataContributor',
        scope: args.storage.accountId,
        description: 'Ingress: tenant registry, installations, deliveries, sign-in state, sessions',
      }, child),
      grantRole(`${name}-secrets`, args.seed, {
        ...grant,
        role: 'keyVaultSecretsUser',
        scope: args.vault.id,
        description: 'Ingress: GitHub App key, webhook and OAuth secrets, session key',
      }, child),
      grantRole(`${name}-telemetry`, args.seed, {
        ...grant,
        role: 'monitoringMetricsPublisher',
        scope: args.monitoring.appInsightsId,
        description: 'Ingress: telemetry with Entra auth',
      }, child),
    ];

    const app = new HardenedFunctionApp(
      `${name}-functions`,
      {
        ...placed,
        planName: args.names.plan,
        appName: args.names.app,
        identity: { id: identity.id, clientId: identity.clientId },
        storage: {
          accountName: args.storage.accountName,
          blobEndpoint: args.storage.blobEndpoint,
          deploymentContainer: args.storage.deploymentContainer,
        },
        appInsightsConnectionString: args.monitoring.connectionString,
        subnetId: args.subnetId,
        appSettings: {
          ZEKT_STORAGE_ACCOUNT_NAME: args.storage.accountName,
          ZEKT_STORAGE_ENDPOINT_SUFFIX: args.storage.endpointSuffix,
          AZURE_CLIENT_ID: identity.clientId,
          ZEKT_PLATFORM_VAULT_URL: args.vault.uri,
          ZEKT_TENANT_TARGET: 'azure',
          GITHUB_APP_ID: args.githubAppId,
          GITHUB_APP_CLIENT_ID: args.githubClientId,
          AZURE_ENTRA_TENANT_ID: args.entraTenantId,
          ZEKT_BROKER_AUDIENCE: args.broker.audience,
          ZEKT_BROKER_CLIENT_ID: args.broker.clientId,
          // Known before the app exists: without a custom domain a site is `<name>.azurewebsites.net`.
          ZEKT_PUBLIC_URL: args.publicBaseUrl ?? `https://${args.names.app}.azurewebsites.net`,
          // The Functions host passes these to the Node worker (see runtime/platform/node-arguments.ts).
          languageWorkers__node__arguments: platformNodeArguments.join(' '),
        },
        ...(args.packageDir ? { packageDir: args.packageDir } : {}),
      },
      { ...child, dependsOn: grants },
    );
    this.principalId = identity.principalId;
    this.baseUrl = args.publicBaseUrl ? pulumi.output(args.publicBaseUrl) : app.baseUrl;
    this.registerOutputs({ principalId: this.principalId, baseUrl: this.baseUrl });
  }
}
