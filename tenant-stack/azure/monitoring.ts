/**
 * Log Analytics and a workspace-based Application Insights component with local (instrumentation
 * key) authentication off, so only Entra identities holding Monitoring Metrics Publisher on the
 * component can send telemetry:
 * https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
 */
import * as pulumi from '@pulumi/pulumi';
import * as applicationinsights from '@pulumi/azure-native/applicationinsights/index.js';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights/index.js';
import type { Tags } from './zekt-tags.ts';

export interface MonitoringArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly workspaceName: string;
  readonly appInsightsName: string;
  /** Days logs are kept (30–730). Default 30. */
  readonly retentionInDays?: number;
  readonly tags: Tags;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly workspaceId: pulumi.Output<string>;
  readonly appInsightsId: pulumi.Output<string>;
  /**
   * Not a credential: it only says where to send telemetry, and with local auth off a request
   * must also carry an Entra token:
   * https://learn.microsoft.com/azure/azure-monitor/app/connection-strings#is-the-connection-string-a-secret
   */
  readonly connectionString: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:Monitoring', name, {}, opts);
    const child = { parent: this };
    const retentionInDays = args.retentionInDays ?? 30;

    const workspace = new operationalinsights.Workspace(
      `${name}-workspace`,
      {
        workspaceName: args.workspaceName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
        retentionInDays,
        // No workspace keys: ingestion only through Entra-authenticated pipelines.
        features: { disableLocalAuth: true },
        tags: args.tags,
      },
      child,
    );
    const component = new applicationinsights.Component(
      `${name}-appinsights`,
      {
        resourceName: args.appInsightsName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'web',
        applicationType: applicationinsights.ApplicationType.Web,
        workspaceResourceId: workspace.id,
        ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
        disableLocalAuth: true,
        retentionInDays,
        tags: args.tags,
      },
      child,
    );
    this.workspaceId = workspace.id;
    this.appInsightsId = component.id;
    this.connectionString = component.connectionString;
    this.registerOutputs({ workspaceId: this.workspaceId, appInsightsId: this.appInsightsId });
  }
}
