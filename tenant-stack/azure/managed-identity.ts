/**
 * A user-assigned managed identity: the only credential a Zekt workload has. Its role assignments
 * are made next to the resources they reach, never here.
 */
import * as pulumi from '@pulumi/pulumi';
import * as managedidentity from '@pulumi/azure-native/managedidentity/index.js';
import type { Tags } from './zekt-tags.ts';

export interface ManagedIdentityArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly identityName: string;
  readonly tags: Tags;
}

export class ManagedIdentity extends pulumi.ComponentResource {
  /** ARM resource id (what a site, job or scale rule is given). */
  readonly id: pulumi.Output<string>;
  /** Application (client) id: what the SDKs are told to use (`AZURE_CLIENT_ID`). */
  readonly clientId: pulumi.Output<string>;
  /** Object id of the service principal: what role assignments name. */
  readonly principalId: pulumi.Output<string>;

  constructor(name: string, args: ManagedIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:ManagedIdentity', name, {}, opts);
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceName: args.identityName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        tags: args.tags,
      },
      { parent: this },
    );
    this.id = identity.id;
    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.registerOutputs({ id: this.id, clientId: this.clientId, principalId: this.principalId });
  }
}
