/**
 * A virtual network whose subnets carry service endpoints, so that a Key Vault denying public
 * traffic by default can still admit its own workloads by subnet. Apps on the Flex Consumption plan
 * and Container Apps environments join a subnet delegated to `Microsoft.App/environments`:
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#virtual-network-integration
 * https://learn.microsoft.com/azure/container-apps/custom-virtual-networks#subnet
 */
import * as pulumi from '@pulumi/pulumi';
import * as network from '@pulumi/azure-native/network/index.js';
import type { Tags } from './zekt-tags.ts';

export interface ServiceSubnet {
  readonly name: string;
  /** CIDR inside the network's address space; Container Apps needs at least a /27. */
  readonly addressPrefix: string;
}

export interface ServiceNetworkArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly networkName: string;
  readonly addressSpace: string;
  readonly subnets: readonly ServiceSubnet[];
  readonly tags: Tags;
}

/** Service endpoints every Zekt subnet has: its vault and its storage are reached through them. */
export const serviceEndpoints = ['Microsoft.KeyVault', 'Microsoft.Storage'] as const;

export class ServiceNetwork extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>;
  /** Subnet ids by subnet name. */
  readonly subnetIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: ServiceNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:azure:ServiceNetwork', name, {}, opts);
    // Subnets inline (not separate Subnet resources), so the network never fights its own subnets.
    const vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      {
        virtualNetworkName: args.networkName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        addressSpace: { addressPrefixes: [args.addressSpace] },
        subnets: args.subnets.map((subnet) => ({
          name: subnet.name,
          addressPrefix: subnet.addressPrefix,
          serviceEndpoints: serviceEndpoints.map((service) => ({ service })),
          delegations: [{ name: 'app-environments', serviceName: 'Microsoft.App/environments' }],
        })),
        tags: args.tags,
      },
      { parent: this },
    );
    this.networkId = vnet.id;
    const subnetIds: Record<string, pulumi.Output<string>> = {};
    for (const subnet of args.subnets) subnetIds[subnet.name] = vnet.id.apply((id) => `${id}/subnets/${subnet.name}`);
    this.subnetIds = subnetIds;
    this.registerOutputs({ networkId: this.networkId });
  }
}
