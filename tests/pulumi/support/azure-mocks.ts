/**
 * Pulumi mocks that answer like Azure Resource Manager would: ARM ids built from the inputs,
 * storage endpoints, vault URIs, identity client and principal ids, site host names, Application
 * Insights connection strings, random bytes. Every registration is recorded with its inputs
 * (secrets still wrapped) so tests can assert on what the program asked Azure for.
 * Call `installAzureMocks` before importing a program.
 */
import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc.js';
import * as settings from '@pulumi/pulumi/runtime/settings.js';

export const mockSubscriptionId = '6f0c8a52-3d6c-4c36-9a3e-1d1b6f1e2a10';
export const mockEntraTenantId = '2b7e1a9c-5d4f-4e8a-b1c3-9f8e7d6c5b4a';

export type Inputs = Record<string, unknown>;

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the engine received them; secret values stay wrapped (see `isSecret`). */
  readonly inputs: Inputs;
  readonly id: string;
  /** The outputs the mock answered with. */
  readonly state: Inputs;
  /** Filled in by `settle()`. */
  urn: string;
}

/** True for a value the engine would store encrypted (a Pulumi secret). */
export function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** The inputs with every secret replaced by its plain value, for asserting on settings. */
export function plain(value: unknown): unknown {
  if (isSecret(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function str(inputs: Inputs, key: string): string {
  const value = plain(inputs[key]);
  if (typeof value !== 'string' || value === '') throw new Error(`mock: input "${key}" missing (the mock builds ARM ids from it)`);
  return value;
}

/** ARM id and extra outputs of one resource, as Azure would return them. */
function armResponse(type: string, name: string, inputs: Inputs): { id: string; extra: Inputs; echoInputs: boolean } {
  const sub = `/subscriptions/${mockSubscriptionId}`;
  const inGroup = (path: string): string => `${sub}/resourceGroups/${str(inputs, 'resourceGroupName')}/providers/${path}`;
  const account = (): string => inGroup(`Microsoft.Storage/storageAccounts/${str(inputs, 'accountName')}`);
  const vault = (): string => inGroup(`Microsoft.KeyVault/vaults/${str(inputs, 'vaultName')}`);
  if (type.startsWith('pulumi-nodejs:dynamic/zekt-local:')) {
    // The local target's resources (tenant-stack/local/), answered as the local resource manager would.
    const extra: Inputs = {
      clientId: uuidFrom(`local-client/${name}`),
      principalId: uuidFrom(`local-principal/${name}`),
      clientSecret: createHash('sha256').update(`local-identity/${name}`).digest('base64url'),
      vaultUri: `https://127.0.0.1:7073/vaults/${name}`,
      key: createHash('sha256').update(`local-key/${name}`).digest('base64'),
      blobEndpoint: `http://127.0.0.1:10000/${name}`,
      queueEndpoint: `http://127.0.0.1:10001/${name}`,
      tableEndpoint: `http://127.0.0.1:10002/${name}`,
      value: createHash('sha256').update(`local-value/${name}`).digest('base64url'),
      baseUrl: 'http://127.0.0.1:7100',
      running: true,
    };
    return { id: name, extra, echoInputs: true };
  }
  switch (type) {
    case 'azure-native:resources:ResourceGroup': {
      const group = str(inputs, 'resourceGroupName');
      return { id: `${sub}/resourceGroups/${group}`, extra: { name: group }, echoInputs: true };
    }
    case 'azure-native:storage:StorageAccount': {
      const n = str(inputs, 'accountName');
      const endpoint = (service: string): string => `https://${n}.${service}.core.windows.net/`;
      return {
        id: account(),
        extra: {
          name: n,
          primaryEndpoints: {
            blob: endpoint('blob'), queue: endpoint('queue'), table: endpoint('table'),
            file: endpoint('file'), dfs: endpoint('dfs'), web: `https://${n}.z6.web.core.windows.net/`,
          },
        },
        echoInputs: true,
      };
    }
    case 'azure-native:storage:BlobServiceProperties':
      return { id: `${account()}/blobServices/default`, extra: {}, echoInputs: true };
    case 'azure-native:storage:BlobContainer':
      return { id: `${account()}/blobServices/default/containers/${str(inputs, 'containerName')}`, extra: {}, echoInputs: true };
    case 'azure-native:storage:Queue':
      return { id: `${account()}/queueServices/default/queues/${str(inputs, 'queueName')}`, extra: {}, echoInputs: true };
    case 'azure-native:storage:Table':
      return { id: `${account()}/tableServices/default/tables/${str(inputs, 'tableName')}`, extra: {}, echoInputs: true };
    case 'azure-native:storage:ManagementPolicy':
      return { id: `${account()}/managementPolicies/default`, extra: {}, echoInputs: true };
    case 'azure-native:keyvault:Vault': {
      const n = str(inputs, 'vaultName');
      const properties = { ...(plain(inputs.properties) as Inputs), vaultUri: `https://${n}.vault.azure.net/` };
      return { id: vault(), extra: { name: n, properties }, echoInputs: true };
    }
    case 'azure-native:keyvault:Secret': {
      const n = str(inputs, 'secretName');
      const uri = `https://${str(inputs, 'vaultName')}.vault.azure.net/secrets/${n}`;
      // ARM never returns a secret's value: the answer keeps the tags, not the properties sent.
      return { id: `${vault()}/secrets/${n}`, extra: { name: n, tags: inputs.tags, properties: { secretUri: uri } }, echoInputs: false };
    }
    case 'azure-native:keyvault:Key': {
      const n = str(inputs, 'keyName');
      const uri = `https://${str(inputs, 'vaultName')}.vault.azure.net/keys/${n}`;
      return { id: `${vault()}/keys/${n}`, extra: { name: n, keyUri: uri, keyUriWithVersion: `${uri}/${uuidFrom(uri).replace(/-/g, '')}` }, echoInputs: true };
    }
    case 'azure-native:managedidentity:UserAssignedIdentity': {
      const id = inGroup(`Microsoft.ManagedIdentity/userAssignedIdentities/${str(inputs, 'resourceName')}`);
      return {
        id,
        extra: { name: str(inputs, 'resourceName'), clientId: uuidFrom(`client/${id}`), principalId: uuidFrom(`principal/${id}`), tenantId: mockEntraTenantId },
        echoInputs: true,
      };
    }
    case 'azure-native:web:AppServicePlan':
      return { id: inGroup(`Microsoft.Web/serverfarms/${str(inputs, 'name')}`), extra: {}, echoInputs: true };
    case 'azure-native:web:WebApp': {
      const n = str(inputs, 'name');
      return { id: inGroup(`Microsoft.Web/sites/${n}`), extra: { defaultHostName: `${n}.azurewebsites.net` }, echoInputs: true };
    }
    case 'azure-native:web:WebAppFtpAllowed':
      return { id: inGroup(`Microsoft.Web/sites/${str(inputs, 'name')}/basicPublishingCredentialsPolicies/ftp`), extra: {}, echoInputs: true };
    case 'azure-native:web:WebAppScmAllowed':
      return { id: inGroup(`Microsoft.Web/sites/${str(inputs, 'name')}/basicPublishingCredentialsPolicies/scm`), extra: {}, echoInputs: true };
    case 'azure-native:applicationinsights:Component': {
      const id = inGroup(`Microsoft.Insights/components/${str(inputs, 'resourceName')}`);
      const key = uuidFrom(`ikey/${id}`);
      const location = str(inputs, 'location');
      return {
        id,
        extra: {
          instrumentationKey: key,
          connectionString: `InstrumentationKey=${key};IngestionEndpoint=https://${location}-0.in.applicationinsights.azure.com/;ApplicationId=${uuidFrom(`app/${id}`)}`,
        },
        echoInputs: true,
      };
    }
    case 'azure-native:operationalinsights:Workspace': {
      const id = inGroup(`Microsoft.OperationalInsights/workspaces/${str(inputs, 'workspaceName')}`);
      return { id, extra: { customerId: uuidFrom(`workspace/${id}`) }, echoInputs: true };
    }
    case 'azure-native:network:VirtualNetwork': {
      const id = inGroup(`Microsoft.Network/virtualNetworks/${str(inputs, 'virtualNetworkName')}`);
      const subnets = ((plain(inputs.subnets) ?? []) as Inputs[]).map((s) => ({ ...s, id: `${id}/subnets/${String(s.name)}` }));
      return { id, extra: { subnets }, echoInputs: true };
    }
    case 'azure-native:authorization:RoleAssignment':
      return { id: `${str(inputs, 'scope')}/providers/Microsoft.Authorization/roleAssignments/${str(inputs, 'roleAssignmentName')}`, extra: {}, echoInputs: true };
    case 'azure-native:authorization:RoleDefinition':
      return { id: `${str(inputs, 'scope')}/providers/Microsoft.Authorization/roleDefinitions/${str(inputs, 'roleDefinitionId')}`, extra: {}, echoInputs: true };
    case 'azure-native:authorization:PolicyDefinition':
      return { id: `${sub}/providers/Microsoft.Authorization/policyDefinitions/${str(inputs, 'policyDefinitionName')}`, extra: {}, echoInputs: true };
    case 'azure-native:authorization:PolicyAssignment':
      return { id: `${str(inputs, 'scope')}/providers/Microsoft.Authorization/policyAssignments/${str(inputs, 'policyAssignmentName')}`, extra: {}, echoInputs: true };
    case 'azure-native:app:ManagedEnvironment': {
      const n = str(inputs, 'environmentName');
      return { id: inGroup(`Microsoft.App/managedEnvironments/${n}`), extra: { defaultDomain: `${n}.${str(inputs, 'location')}.azurecontainerapps.io` }, echoInputs: true };
    }
    case 'azure-native:app:Job':
      return { id: inGroup(`Microsoft.App/jobs/${str(inputs, 'jobName')}`), extra: {}, echoInputs: true };
    case 'azure-native:monitor:DiagnosticSetting':
      return { id: `${str(inputs, 'resourceUri')}/providers/Microsoft.Insights/diagnosticSettings/${str(inputs, 'name')}`, extra: {}, echoInputs: true };
    case 'random:index/randomBytes:RandomBytes': {
      const length = Number(plain(inputs.length));
      const bytes = Buffer.alloc(length);
      createHash('sha512').update(`random/${name}`).digest().copy(bytes);
      // Plain, as the engine hands them to the program before applying `additionalSecretOutputs`;
      // the program must mark them secret itself.
      return { id: name, extra: { base64: bytes.toString('base64'), hex: bytes.toString('hex') }, echoInputs: true };
    }
    case 'azure-native:storage:Blob':
      return { id: `${account()}/blobServices/default/containers/${str(inputs, 'containerName')}/blobs/${str(inputs, 'blobName')}`, extra: {}, echoInputs: true };
    case 'azuread:index/applicationRegistration:ApplicationRegistration': {
      const clientId = uuidFrom(`application/${name}`);
      return { id: `/applications/${uuidFrom(`application-object/${name}`)}`, extra: { clientId, objectId: uuidFrom(`application-object/${name}`) }, echoInputs: true };
    }
    case 'azuread:index/applicationIdentifierUri:ApplicationIdentifierUri':
      return { id: `${str(inputs, 'applicationId')}/identifierUris/${Buffer.from(str(inputs, 'identifierUri')).toString('base64')}`, extra: {}, echoInputs: true };
    case 'azuread:index/servicePrincipal:ServicePrincipal':
      return { id: uuidFrom(`service-principal/${name}`), extra: { objectId: uuidFrom(`service-principal/${name}`) }, echoInputs: true };
    case 'pulumi-nodejs:dynamic:Resource':
      // The local target's resources: the settings they are given are what the tests read.
      return { id: name, extra: {}, echoInputs: true };
    case 'random:index/randomPassword:RandomPassword':
      return { id: name, extra: { result: createHash('sha256').update(`password/${name}`).digest('base64url') }, echoInputs: true };
    default:
      throw new Error(`mock: no Azure answer for resource type ${type} (add it to tests/pulumi/support/azure-mocks.ts)`);
  }
}

export interface AzureMocks {
  readonly resources: readonly RecordedResource[];
  /** Waits until every registration the program started has completed, then fills in URNs. */
  settle(): Promise<void>;
}

interface MockMonitorLike {
  getRegisteredResources(): Map<string, { urn: string }>;
}

function waitForRPCs(): Promise<void> {
  // Internal to @pulumi/pulumi (not in its typings): resolves once every outstanding
  // registration, including those still waiting on their inputs, has finished.
  const wait = (settings as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== 'function') throw new Error('@pulumi/pulumi no longer exposes runtime/settings waitForRPCs');
  return wait();
}

/**
 * Installs the mocks (project `zekt`, stack `test`) with the given stack config (`zekt:key` →
 * value; keys in `secretKeys` are Pulumi secrets, as `pulumi config set --secret` makes them).
 */
export async function installAzureMocks(
  config: Readonly<Record<string, string>> = {},
  secretKeys: readonly string[] = [],
): Promise<AzureMocks> {
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig({ ...config }, [...secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Inputs;
        if (args.type.startsWith('pulumi:providers:')) {
          resources.push({ type: args.type, name: args.name, inputs, id: uuidFrom(`provider/${args.name}`), state: inputs, urn: '' });
          return { id: uuidFrom(`provider/${args.name}`), state: inputs };
        }
        if (args.custom === false) {
          resources.push({ type: args.type, name: args.name, inputs, id: '', state: {}, urn: '' });
          return { id: undefined, state: {} };
        }
        const { id, extra, echoInputs } = armResponse(args.type, args.name, inputs);
        // ARM answers every resource with its name: the last segment of its id.
        const state = { ...(echoInputs ? inputs : {}), name: id.split('/').pop(), ...extra };
        resources.push({ type: args.type, name: args.name, inputs, id, state, urn: '' });
        return { id, state };
      },
      call(args) {
        if (args.token === 'azure-native:authorization:getClientConfig') {
          return {
            clientId: uuidFrom('operator-client'),
            objectId: uuidFrom('operator-object'),
            subscriptionId: mockSubscriptionId,
            tenantId: mockEntraTenantId,
          };
        }
        throw new Error(`mock: no answer for invoke ${args.token}`);
      },
    },
    'zekt',
    'test',
  );
  return {
    resources,
    async settle() {
      await waitForRPCs();
      const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
      const urns = [...monitor.getRegisteredResources().keys()];
      for (const resource of resources) {
        const suffix = `${resource.type}::${resource.name}`;
        resource.urn = urns.find((urn) => urn.endsWith(`::${suffix}`) || urn.endsWith(`$${suffix}`)) ?? `(unregistered) ${suffix}`;
      }
    },
  };
}

/** The value of an output, once the mocks have resolved it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}
