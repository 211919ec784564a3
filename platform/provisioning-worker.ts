/**
 * The provisioning worker: an event-driven Container Apps job that starts when the provisioning
 * queue has messages and runs the control plane (Pulumi Automation API + CLI) against one tenant
 * stack at a time. Its identity can
 * - manage the resource types of a tenant compartment in the tenant subscription (a custom role
 *   without wildcards), and assign only the tenant roles, to service principals only (the
 *   assignment's constrained-delegation condition);
 * - write Pulumi state (one container), use the secrets-provider key (one key), take its jobs
 *   (two queues) and keep the tenant registry (one table);
 * and nothing else: it reads no platform secret and no tenant data.
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app/index.js';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as monitor from '@pulumi/azure-native/monitor/index.js';
import { ManagedIdentity } from '../tenant-stack/azure/managed-identity.ts';
import { grantRole, roleAssignmentGuid } from '../tenant-stack/azure/role-assignment.ts';
import { tenantAssignableRoles } from '../tenant-stack/azure/role-definitions.ts';
import type { Tags } from '../tenant-stack/azure/zekt-tags.ts';
import { platformSubnetJoinActions, tenantProvisionerActions } from './provisioner-role.ts';
import { constrainedDelegationCondition } from './role-conditions.ts';

/** `pulumi up` of a compartment takes minutes (Key Vault, Functions); one replica may take an hour. */
export const provisioningReplicaTimeoutSeconds = 3600;

export interface ProvisioningWorkerArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: string;
  readonly names: {
    readonly identity: string;
    readonly environment: string;
    readonly job: string;
    readonly provisionerRole: string;
    readonly subnetJoinerRole: string;
  };
  /** Seed of role assignment and role definition names (the environment). */
  readonly seed: string;
  readonly platformSubscriptionId: pulumi.Input<string>;
  /** Where tenant compartments are created. */
  readonly tenantSubscriptionId: pulumi.Input<string>;
  readonly entraTenantId: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  /** Platform subnets tenant vaults admit (the worker adds them to each tenant vault's rules). */
  readonly platformSubnetIds: readonly pulumi.Input<string>[];
  readonly workspaceId: pulumi.Input<string>;
  readonly storage: {
    readonly accountName: pulumi.Input<string>;
    readonly endpointSuffix: pulumi.Input<string>;
    readonly stateContainer: string;
    readonly stateContainerId: pulumi.Input<string>;
    readonly provisioningQueue: string;
    readonly queueIds: readonly pulumi.Input<string>[];
    readonly registryTableId: pulumi.Input<string>;
  };
  readonly secretsProvider: { readonly keyId: pulumi.Input<string>; readonly url: pulumi.Input<string> };
  readonly image: string;
  readonly registryServer?: string;
  readonly maxExecutions: number;
  /** Handed to tenant stacks: who manages tenant secrets, who may read forward secrets. */
  readonly ingressPrincipalId: pulumi.Input<string>;
  readonly publicBaseUrl: pulumi.Input<string>;
  /** Handed to tenant stacks: what tenant identities ask the broker's tokens for. */
  readonly brokerAudience: pulumi.Input<string>;
  readonly tags: Tags;
}

export class ProvisioningWorker extends pulumi.ComponentResource {
  readonly principalId: pulumi.Output<string>;
  readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: ProvisioningWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:platform:ProvisioningWorker', name, {}, opts);
    const child = { parent: this };
    const placed = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
    const identity = new ManagedIdentity(`${name}-identity`, { ...placed, identityName: args.names.identity }, child);
    const grant = { subscriptionId: args.platformSubscriptionId, principalId: identity.principalId };
    const tenantSubscription = pulumi.interpolate`/subscriptions/${args.tenantSubscriptionId}`;
    const platformSubscription = pulumi.interpolate`/subscriptions/${args.platformSubscriptionId}`;

    const provisionerRole = new authorization.RoleDefinition(
      `${name}-provisioner-role`,
      {
        roleDefinitionId: roleAssignmentGuid(args.seed, 'provisioner-role'),
        roleName: args.names.provisionerRole,
        description: 'Creates, updates and deletes Zekt tenant compartments; assigns only tenant roles (see the assignment condition).',
        roleType: 'CustomRole',
        scope: tenantSubscription,
        assignableScopes: [tenantSubscription],
        permissions: [{ actions: [...tenantProvisionerActions], notActions: [], dataActions: [], notDataActions: [] }],
      },
      child,
    );
    // Subscription scope is unavoidable: the worker creates the tenants' resource groups. The
    // condition limits what it may delegate; `TenantGuardrails` limits where.
    const provisioner = new authorization.RoleAssignment(
      `${name}-provisioner`,
      {
        roleAssignmentName: roleAssignmentGuid(args.seed, `${name}-provisioner`),
        principalId: identity.principalId,
        principalType: 'ServicePrincipal',
        roleDefinitionId: provisionerRole.id,
        scope: tenantSubscription,
        condition: constrainedDelegationCondition(tenantAssignableRoles),
        conditionVersion: '2.0',
        description: 'Provisioning worker: tenant compartments; may delegate only the tenant roles',
      },
      child,
    );

    const joinerRole = new authorization.RoleDefinition(
      `${name}-subnet-joiner-role`,
      {
        roleDefinitionId: roleAssignmentGuid(args.seed, 'subnet-joiner-role'),
        roleName: args.names.subnetJoinerRole,
        description: "Adds a platform subnet to a tenant vault's network rules, nothing else.",
        roleType: 'CustomRole',
        scope: platformSubscription,
        assignableScopes: [platformSubscription],
        permissions: [{ actions: [...platformSubnetJoinActions], notActions: [], dataActions: [], notDataActions: [] }],
      },
      child,
    );
    const grants: pulumi.Resource[] = [provisioner];
    args.platformSubnetIds.forEach((subnetId, i) => {
      grants.push(
        new authorization.RoleAssignment(
          `${name}-subnet-joiner-${i}`,
          {
            roleAssignmentName: roleAssignmentGuid(args.seed, `${name}-subnet-joiner-${i}`),
            principalId: identity.principalId,
            principalType: 'ServicePrincipal',
            roleDefinitionId: joinerRole.id,
            scope: subnetId,
            description: 'Provisioning worker: admits this platform subnet in tenant vaults',
          },
          child,
        ),
      );
    });

    grants.push(
      grantRole(`${name}-state`, args.seed, {
        ...grant,
        role: 'storageBlobDataContributor',
        scope: args.storage.stateContainerId,
        description: 'Provisioning worker: Pulumi state of the tenant stacks',
      }, child),
      grantRole(`${name}-secrets-provider`, args.seed, {
        ...grant,
        role: 'keyVaultCryptoUser',
        scope: args.secretsProvider.keyId,
        description: 'Provisioning worker: encrypts and decrypts tenant stack secrets',
      }, child),
      ...args.storage.queueIds.map((queueId, i) =>
        grantRole(`${name}-queue-${i}`, args.seed, {
          ...grant,
          role: 'storageQueueDataContributor',
          scope: queueId,
          description: 'Provisioning worker: takes provisioning jobs (and parks poisoned ones)',
        }, child),
      ),
      grantRole(`${name}-registry`, args.seed, {
        ...grant,
        role: 'storageTableDataContributor',
        scope: args.storage.registryTableId,
        description: 'Provisioning worker: tenant registry (status, leases, outputs)',
      }, child),
    );

    const environment = new app.ManagedEnvironment(
      `${name}-environment`,
      {
        environmentName: args.names.environment,
        ...placed,
        workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }],
        // In the platform network (its subnet is admitted by the vaults); no inbound endpoint.
        vnetConfiguration: { infrastructureSubnetId: args.subnetId, internal: true },
        // Logs through diagnostic settings rather than a workspace shared key.
        appLogsConfiguration: { destination: 'azure-monitor' },
        zoneRedundant: false,
      },
      child,
    );
    new monitor.DiagnosticSetting(
      `${name}-environment-logs`,
      {
        name: 'to-log-analytics',
        resourceUri: environment.id,
        workspaceId: args.workspaceId,
        logs: [{ categoryGroup: 'allLogs', enabled: true }],
      },
      child,
    );

    const env: Record<string, pulumi.Input<string>> = {
      ZEKT_TENANT_TARGET: 'azure',
      ZEKT_STORAGE_ACCOUNT_NAME: args.storage.accountName,
      ZEKT_STORAGE_ENDPOINT_SUFFIX: args.storage.endpointSuffix,
      ZEKT_PULUMI_BACKEND_URL: `azblob://${args.storage.stateContainer}`,
      ZEKT_PULUMI_SECRETS_PROVIDER: args.secretsProvider.url,
      ZEKT_PUBLIC_URL: args.publicBaseUrl,
      ZEKT_BROKER_AUDIENCE: args.brokerAudience,
      ZEKT_TENANT_LOCATION: args.location,
      ZEKT_CONTROL_PLANE_PRINCIPAL_ID: identity.principalId,
      ZEKT_INGRESS_PRINCIPAL_ID: args.ingressPrincipalId,
      ZEKT_PLATFORM_SUBNET_IDS: pulumi.all([...args.platformSubnetIds]).apply((ids) => ids.join(',')),
      // The Pulumi CLI's azblob backend and the azure-native provider, both by managed identity.
      AZURE_STORAGE_ACCOUNT: args.storage.accountName,
      AZURE_CLIENT_ID: identity.clientId,
      ARM_USE_MSI: 'true',
      ARM_CLIENT_ID: identity.clientId,
      ARM_TENANT_ID: args.entraTenantId,
      ARM_SUBSCRIPTION_ID: args.tenantSubscriptionId,
      PULUMI_SKIP_UPDATE_CHECK: 'true',
    };

    const job = new app.Job(
      `${name}-job`,
      {
        jobName: args.names.job,
        ...placed,
        environmentId: environment.id,
        workloadProfileName: 'Consumption',
        identity: { type: app.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
        configuration: {
          triggerType: app.TriggerType.Event,
          replicaTimeout: provisioningReplicaTimeoutSeconds,
          // A failed run leaves its message in the queue; the worker's own retry schedule (and the
          // poison queue) decide what happens next, not a blind replica retry.
          replicaRetryLimit: 0,
          eventTriggerConfig: {
            parallelism: 1,
            replicaCompletionCount: 1,
            scale: {
              minExecutions: 0,
              maxExecutions: args.maxExecutions,
              pollingInterval: 30,
              rules: [
                {
                  name: 'provisioning-queue',
                  type: 'azure-queue',
                  metadata: { accountName: args.storage.accountName, queueName: args.storage.provisioningQueue, queueLength: '1' },
                  // KEDA reads the queue length with the worker identity, no connection string:
                  // https://learn.microsoft.com/azure/container-apps/scale-app#authentication-1
                  identity: identity.id,
                },
              ],
            },
          },
          ...(args.registryServer ? { registries: [{ server: args.registryServer, identity: identity.id }] } : {}),
        },
        template: {
          containers: [
            {
              name: 'provisioner',
              image: args.image,
              resources: { cpu: 1, memory: '2Gi' },
              env: Object.entries(env).map(([envName, value]) => ({ name: envName, value })),
            },
          ],
        },
      },
      { ...child, dependsOn: grants },
    );
    this.principalId = identity.principalId;
    this.jobName = job.name;
    this.registerOutputs({ principalId: this.principalId, jobName: this.jobName });
  }
}
