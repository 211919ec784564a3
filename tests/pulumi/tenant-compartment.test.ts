/**
 * The Azure tenant stack under Pulumi's mocks: two tenants are provisioned side by side and every
 * security property of their compartments is asserted on what the program asks Azure for.
 */
import { expect } from 'chai';
import type { RecordedResource } from './support/azure-mocks.ts';
import { installAzureMocks, isSecret, mockSubscriptionId, valueOf, type AzureMocks } from './support/azure-mocks.ts';
import { flexPlan, functionAppHardening, storageHardening, vaultHardening } from './support/hardening.ts';
import { at, nameValues, ofType, plaintextSecrets, taggable, violations } from './support/inspect.ts';
import { roleGuidOf } from '../../tenant-stack/azure/role-definitions.ts';
import { documentedRoleIds, documentedRoleOf, expectedTenantAssignableRoles } from '../support/documented-role-ids.ts';
import { tenantOutputKeys, tenantStorageLayout, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import type { TenantCompartmentArgs } from '../../tenant-stack/azure/tenant-compartment.ts';

const controlPlanePrincipalId = '11111111-2222-4333-8444-555555555555';
const ingressPrincipalId = '99999999-8888-4777-8666-555555555555';
const platformSubnet = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-zekt-platform-prod/providers/Microsoft.Network/virtualNetworks/vnet-zekt-platform-prod/subnets/worker`;

const tenants: Record<'a' | 'b', TenantCompartmentArgs> = {
  a: {
    tenantId: 'acme',
    creationId: 'k3x9q2',
    location: 'westeurope',
    controlPlanePrincipalId,
    ingressPrincipalId,
    platformSubnetIds: [platformSubnet],
    tags: { 'cost-center': 'saas' },
  },
  b: { tenantId: 'globex-labs', creationId: 'p7m2w4', location: 'westeurope', controlPlanePrincipalId },
};

describe('tenant stack (Azure) under Pulumi mocks', () => {
  let mocks: AzureMocks;
  const outputs: Partial<Record<'a' | 'b', TenantStackOutputs>> = {};
  const started = Date.now();

  /** The resources of one tenant: every child is named from the compartment (the tenant id). */
  const of = (key: 'a' | 'b'): RecordedResource[] =>
    mocks.resources.filter((r) => r.name === tenants[key].tenantId || r.name.startsWith(`${tenants[key].tenantId}-`));
  const all = (): RecordedResource[] => [...of('a'), ...of('b')];

  before(async () => {
    mocks = await installAzureMocks();
    // Imported only now: the program must see the mocks, not a real engine.
    const { azureTenantProgram } = await import('../../tenant-stack/azure/tenant-compartment.ts');
    for (const key of ['a', 'b'] as const) {
      const result = await azureTenantProgram(tenants[key])();
      const entries = await Promise.all(Object.entries(result).map(async ([k, v]) => [k, await valueOf(v)] as const));
      outputs[key] = Object.fromEntries(entries) as unknown as TenantStackOutputs;
    }
    await mocks.settle();
  });

  after(() => {
    console.log(`      (tenant program under mocks: ${Date.now() - started} ms, ${mocks.resources.length} registrations)`);
  });

  describe('resource group', () => {
    it('gives each tenant its own resource group, named for it and tagged', () => {
      for (const key of ['a', 'b'] as const) {
        const groups = ofType(of(key), 'resources:ResourceGroup');
        expect(groups.map((g) => at(g.inputs, 'resourceGroupName'))).to.deep.equal([`rg-zekt-${tenants[key].tenantId}`]);
      }
    });
    it('places every resource of a tenant in its own resource group', () => {
      for (const key of ['a', 'b'] as const) {
        const group = `rg-zekt-${tenants[key].tenantId}`;
        const stray = of(key)
          .filter((r) => r.type.startsWith('azure-native:') && r.id.startsWith('/subscriptions/') && r.type !== 'azure-native:authorization:RoleAssignment')
          .filter((r) => !r.id.startsWith(`/subscriptions/${mockSubscriptionId}/resourceGroups/${group}`))
          .map((r) => `${r.urn}: ${r.id}`);
        expect(stray, stray.join('\n')).to.be.empty;
      }
    });
  });

  describe('storage account', () => {
    const hardening = storageHardening;
    for (const setting of hardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every storage account`, () => {
        const accounts = ofType(all(), 'storage:StorageAccount');
        expect(accounts).to.have.length(2);
        const found = violations(accounts, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('creates exactly the tables, queues (with the poison queue) and containers of the storage layout', () => {
      for (const key of ['a', 'b'] as const) {
        const names = (type: string, input: string): string[] => ofType(of(key), type).map((r) => String(at(r.inputs, input))).sort();
        expect(names('storage:Table', 'tableName')).to.deep.equal([...tenantStorageLayout.tables].sort());
        expect(names('storage:Queue', 'queueName')).to.deep.equal([...tenantStorageLayout.queues].sort());
        expect(names('storage:BlobContainer', 'containerName')).to.deep.equal([...tenantStorageLayout.containers].sort());
        expect(names('storage:Queue', 'queueName')).to.include('deliveries-poison');
      }
    });
    it('keeps every container private', () => {
      const found = violations(ofType(all(), 'storage:BlobContainer'), [['publicAccess', 'None']]);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('deletes expired message blobs with a lifecycle rule on the messages container', () => {
      for (const key of ['a', 'b'] as const) {
        const [policy] = ofType(of(key), 'storage:ManagementPolicy');
        expect(policy, `${tenants[key].tenantId}: no lifecycle policy`).to.exist;
        const rules = at((policy as RecordedResource).inputs, 'policy.rules') as { definition: Record<string, unknown>; enabled: boolean }[];
        const rule = rules.find((r) => JSON.stringify(at(r.definition, 'filters.prefixMatch')) === JSON.stringify(['messages/']));
        expect(rule, `${(policy as RecordedResource).urn}: no rule on messages/`).to.exist;
        expect(rule?.enabled).to.equal(true);
        expect(at(rule?.definition ?? {}, 'actions.baseBlob.delete.daysAfterCreationGreaterThan')).to.equal(7);
      }
    });
  });

  describe('key vault', () => {
    const hardening = vaultHardening;
    for (const setting of hardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every vault`, () => {
        const vaults = ofType(all(), 'keyvault:Vault');
        expect(vaults).to.have.length(2);
        const found = violations(vaults, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('has no access policies (RBAC only)', () => {
      const found = ofType(all(), 'keyvault:Vault')
        .filter((v) => ((at(v.inputs, 'properties.accessPolicies') as unknown[] | undefined) ?? []).length > 0)
        .map((v) => `${v.urn}: has access policies`);
      expect(found, found.join('\n')).to.be.empty;
    });
    it("admits only the tenant's own subnet and the platform's subnets through the firewall", () => {
      for (const key of ['a', 'b'] as const) {
        const [vault] = ofType(of(key), 'keyvault:Vault') as [RecordedResource];
        const rules = (at(vault.inputs, 'properties.networkAcls.virtualNetworkRules') as { id: string }[]).map((r) => r.id);
        const own = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-zekt-${tenants[key].tenantId}/providers/Microsoft.Network/virtualNetworks/vnet-zekt-${tenants[key].tenantId}/subnets/functions`;
        expect(rules, vault.urn).to.deep.equal([own, ...(tenants[key].platformSubnetIds ?? [])]);
        expect(at(vault.inputs, 'properties.networkAcls.ipRules'), vault.urn).to.deep.equal([]);
      }
    });
    it('gives every subnet the service endpoints the vault firewall relies on', () => {
      for (const network of ofType(all(), 'network:VirtualNetwork')) {
        for (const subnet of at(network.inputs, 'subnets') as { serviceEndpoints: { service: string }[] }[]) {
          expect(subnet.serviceEndpoints.map((s) => s.service), network.urn).to.include('Microsoft.KeyVault');
        }
      }
    });
  });

  describe('functions app', () => {
    const siteHardening = functionAppHardening;
    for (const setting of siteHardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every Functions app`, () => {
        const sites = ofType(all(), 'web:WebApp');
        expect(sites).to.have.length(2);
        const found = violations(sites, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('runs every Functions app on a Linux Flex Consumption (FC1) plan', () => {
      const found = violations(ofType(all(), 'web:AppServicePlan'), flexPlan);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('turns basic-auth publishing off for both FTP and SCM on every Functions app', () => {
      for (const key of ['a', 'b'] as const) {
        const site = ofType(of(key), 'web:WebApp')[0] as RecordedResource;
        for (const type of ['web:WebAppFtpAllowed', 'web:WebAppScmAllowed']) {
          const policies = ofType(of(key), type).filter((p) => at(p.inputs, 'name') === at(site.inputs, 'name'));
          expect(policies, `${site.urn}: no ${type}`).to.have.length(1);
          expect(at((policies[0] as RecordedResource).inputs, 'allow'), (policies[0] as RecordedResource).urn).to.equal(false);
        }
      }
    });
    it('reaches host storage with the managed identity, not a connection string', () => {
      for (const key of ['a', 'b'] as const) {
        const site = ofType(of(key), 'web:WebApp')[0] as RecordedResource;
        const settings = nameValues(at(site.inputs, 'siteConfig.appSettings'));
        const identity = ofType(of(key), 'managedidentity:UserAssignedIdentity')[0] as RecordedResource;
        expect(settings.get('AzureWebJobsStorage__accountName'), site.urn).to.equal(at(ofType(of(key), 'storage:StorageAccount')[0]?.inputs ?? {}, 'accountName'));
        expect(settings.get('AzureWebJobsStorage__credential'), site.urn).to.equal('managedidentity');
        expect(settings.get('AzureWebJobsStorage__clientId'), site.urn).to.equal(identity.state.clientId);
        expect(settings.has('AzureWebJobsStorage'), `${site.urn}: has a storage connection string`).to.equal(false);
        expect(at(site.inputs, 'functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId'), site.urn).to.equal(identity.id);
        expect(at(site.inputs, 'identity.userAssignedIdentities'), site.urn).to.deep.equal([identity.id]);
      }
    });
    it('sends telemetry with Entra auth to an Application Insights component whose local auth is off', () => {
      for (const key of ['a', 'b'] as const) {
        const site = ofType(of(key), 'web:WebApp')[0] as RecordedResource;
        const identity = ofType(of(key), 'managedidentity:UserAssignedIdentity')[0] as RecordedResource;
        const settings = nameValues(at(site.inputs, 'siteConfig.appSettings'));
        expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'), site.urn).to.equal(`Authorization=AAD;ClientId=${String(identity.state.clientId)}`);
        expect(String(settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING')), site.urn).to.match(/^InstrumentationKey=/);
      }
      const found = [
        ...violations(ofType(all(), 'applicationinsights:Component'), [['disableLocalAuth', true]]),
        ...violations(ofType(all(), 'operationalinsights:Workspace'), [['features.disableLocalAuth', true]]),
      ];
      expect(found, found.join('\n')).to.be.empty;
    });
    it('gives the code its endpoints, vault URI and identity client id in app settings', () => {
      for (const key of ['a', 'b'] as const) {
        const site = ofType(of(key), 'web:WebApp')[0] as RecordedResource;
        const settings = nameValues(at(site.inputs, 'siteConfig.appSettings'));
        const result = outputs[key] as TenantStackOutputs;
        expect(settings.get('ZEKT_TENANT_ID'), site.urn).to.equal(tenants[key].tenantId);
        expect(settings.get('ZEKT_TENANT_VAULT_URL'), site.urn).to.equal(result.vaultUri);
        expect(settings.get('ZEKT_STORAGE_ACCOUNT_NAME'), site.urn).to.equal(result.storageAccountName);
        expect(settings.get('ZEKT_STORAGE_ENDPOINT_SUFFIX'), site.urn).to.equal('core.windows.net');
        expect(settings.get('AZURE_CLIENT_ID'), site.urn).to.equal(result.identityClientId);
      }
    });
    it('keeps every app setting free of secrets, even wrapped as Pulumi secrets', () => {
      for (const site of ofType(all(), 'web:WebApp')) {
        expect(isSecret(site.inputs.siteConfig), `${site.urn}: siteConfig carries a secret`).to.equal(false);
        for (const [name, value] of nameValues(at(site.inputs, 'siteConfig.appSettings'))) {
          expect(isSecret(value), `${site.urn}: app setting ${name} is a secret`).to.equal(false);
        }
      }
    });
    it("joins the tenant's own subnet", () => {
      for (const key of ['a', 'b'] as const) {
        const site = ofType(of(key), 'web:WebApp')[0] as RecordedResource;
        expect(String(at(site.inputs, 'virtualNetworkSubnetId')), site.urn).to.match(new RegExp(`/resourceGroups/rg-zekt-${tenants[key].tenantId}/providers/Microsoft.Network/virtualNetworks/[^/]+/subnets/functions$`));
      }
    });
  });

  describe('role assignments', () => {
    const assignments = (key: 'a' | 'b'): RecordedResource[] => ofType(of(key), 'authorization:RoleAssignment');
    const describeGrant = (a: RecordedResource, resources: readonly RecordedResource[]): string => {
      const scope = String(at(a.inputs, 'scope'));
      const target = resources.find((r) => r.id === scope);
      return `${documentedRoleOf.get(roleGuidOf(String(at(a.inputs, 'roleDefinitionId')))) ?? 'unknown'} @ ${target ? target.type.split(':').pop() : scope}`;
    };

    it("scopes every role assignment to one of the tenant's own resources (never its resource group, the subscription or another tenant)", () => {
      const found: string[] = [];
      for (const key of ['a', 'b'] as const) {
        const own = new Set(of(key).filter((r) => r.type !== 'azure-native:resources:ResourceGroup' && r.id.includes('/providers/')).map((r) => r.id));
        for (const a of assignments(key)) {
          const scope = String(at(a.inputs, 'scope'));
          if (!own.has(scope)) found.push(`${a.urn}: scope ${scope} is not a resource of tenant ${tenants[key].tenantId}`);
          if (scope.split('/').length <= 5) found.push(`${a.urn}: scope ${scope} is a subscription or resource group`);
        }
      }
      expect(found, found.join('\n')).to.be.empty;
    });
    it('uses only roles the tenant stack may assign', () => {
      const allowed = new Set<string>(expectedTenantAssignableRoles.map((role) => documentedRoleIds[role]));
      const found = [...assignments('a'), ...assignments('b')]
        .filter((a) => !allowed.has(roleGuidOf(String(at(a.inputs, 'roleDefinitionId')))))
        .map((a) => `${a.urn}: role ${String(at(a.inputs, 'roleDefinitionId'))} is not allowed`);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('assigns to service principals only (principalType ServicePrincipal)', () => {
      const found = violations([...assignments('a'), ...assignments('b')], [['principalType', 'ServicePrincipal']]);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('grants the tenant identity exactly its storage, vault and telemetry roles on its own resources', () => {
      for (const key of ['a', 'b'] as const) {
        const identity = ofType(of(key), 'managedidentity:UserAssignedIdentity')[0] as RecordedResource;
        const grants = assignments(key)
          .filter((a) => at(a.inputs, 'principalId') === identity.state.principalId)
          .map((a) => describeGrant(a, of(key)))
          .sort();
        expect(grants).to.deep.equal([
          'keyVaultSecretsUser @ Vault',
          'monitoringMetricsPublisher @ Component',
          'storageBlobDataOwner @ StorageAccount',
          'storageQueueDataContributor @ StorageAccount',
          'storageTableDataContributor @ StorageAccount',
        ]);
      }
    });
    it("grants the control plane only Secrets Officer on the tenant's vault and Blob Data Contributor on its deployment container", () => {
      for (const key of ['a', 'b'] as const) {
        const mine = assignments(key).filter((a) => at(a.inputs, 'principalId') === controlPlanePrincipalId);
        expect(mine.map((a) => describeGrant(a, of(key))).sort()).to.deep.equal(['keyVaultSecretsOfficer @ Vault', 'storageBlobDataContributor @ BlobContainer']);
        const upload = mine.find((a) => documentedRoleOf.get(roleGuidOf(String(at(a.inputs, 'roleDefinitionId')))) === 'storageBlobDataContributor') as RecordedResource;
        const container = of(key).find((r) => r.id === String(at(upload.inputs, 'scope'))) as RecordedResource;
        expect(at(container.inputs, 'containerName'), upload.urn).to.equal('deployment-package');
      }
    });
    it('grants the ingress, when given, only Secrets User on the forward-signing secret', () => {
      const grants = assignments('a').filter((a) => at(a.inputs, 'principalId') === ingressPrincipalId);
      expect(grants.map((a) => describeGrant(a, of('a')))).to.deep.equal(['keyVaultSecretsUser @ Secret']);
      expect(String(at((grants[0] as RecordedResource).inputs, 'scope'))).to.match(/\/secrets\/forward-signing-secret$/);
      expect(assignments('b').filter((a) => at(a.inputs, 'principalId') === ingressPrincipalId)).to.be.empty;
    });
    it('names role assignments deterministically and uniquely', () => {
      const names = [...assignments('a'), ...assignments('b')].map((a) => String(at(a.inputs, 'roleAssignmentName')));
      for (const name of names) expect(name).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Set(names).size).to.equal(names.length);
    });
  });

  describe('secrets', () => {
    const secretValues = (): string[] =>
      mocks.resources
        .filter((r) => r.type.startsWith('random:'))
        .flatMap((r) => [r.state.base64, r.state.hex, r.state.result].filter((v): v is string => typeof v === 'string'));

    it('generates the forward-signing secret and message key once, with no keepers that would replace them', () => {
      for (const key of ['a', 'b'] as const) {
        const randoms = of(key).filter((r) => r.type === 'random:index/randomBytes:RandomBytes');
        expect(randoms.map((r) => at(r.inputs, 'length'))).to.deep.equal([32, 32]);
        for (const r of randoms) expect(at(r.inputs, 'keepers'), r.urn).to.equal(undefined);
      }
    });
    it("stores them only as Key Vault secrets in the tenant's own vault, as Pulumi secrets", () => {
      for (const key of ['a', 'b'] as const) {
        const [vault] = ofType(of(key), 'keyvault:Vault') as [RecordedResource];
        const stored = ofType(of(key), 'keyvault:Secret');
        expect(stored.map((s) => at(s.inputs, 'secretName')).sort()).to.deep.equal(['forward-signing-secret', 'message-encryption-key']);
        for (const secret of stored) {
          expect(at(secret.inputs, 'vaultName'), secret.urn).to.equal(at(vault.inputs, 'vaultName'));
          expect(isSecret(secret.inputs.properties), `${secret.urn}: value is not a Pulumi secret`).to.equal(true);
        }
        const signing = stored.find((s) => at(s.inputs, 'secretName') === 'forward-signing-secret') as RecordedResource;
        expect(String(at(signing.inputs, 'properties.value'))).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      }
    });
    it('passes no secret in plain text to any resource input', () => {
      expect(secretValues()).to.have.length.greaterThan(0);
      const found = plaintextSecrets(all(), secretValues());
      expect(found, found.join('\n')).to.be.empty;
    });
    it('exports no secret among the stack outputs', () => {
      const values = Object.values(outputs.a ?? {}).map(String);
      for (const secret of secretValues()) expect(values.some((v) => v.includes(secret))).to.equal(false);
    });
  });

  describe('tags', () => {
    it('tags every taggable resource with zekt:tenant and zekt:managed-by', () => {
      const found: string[] = [];
      for (const key of ['a', 'b'] as const) {
        for (const r of taggable(of(key))) {
          const tags = (at(r.inputs, 'tags') ?? {}) as Record<string, string>;
          if (tags['zekt:tenant'] !== tenants[key].tenantId) found.push(`${r.urn}: zekt:tenant is ${tags['zekt:tenant']}`);
          if (tags['zekt:managed-by'] !== 'zekt-control-plane') found.push(`${r.urn}: zekt:managed-by is ${tags['zekt:managed-by']}`);
        }
      }
      expect(found, found.join('\n')).to.be.empty;
    });
    it("keeps the caller's extra tags", () => {
      for (const r of taggable(of('a'))) expect(at(r.inputs, 'tags.cost-center'), r.urn).to.equal('saas');
    });
  });

  describe('names', () => {
    /** The input holding the name Azure sees, for every type that has a name of its own. */
    const nameKeys: Readonly<Record<string, string>> = {
      'azure-native:resources:ResourceGroup': 'resourceGroupName',
      'azure-native:storage:StorageAccount': 'accountName',
      'azure-native:keyvault:Vault': 'vaultName',
      'azure-native:managedidentity:UserAssignedIdentity': 'resourceName',
      'azure-native:applicationinsights:Component': 'resourceName',
      'azure-native:operationalinsights:Workspace': 'workspaceName',
      'azure-native:network:VirtualNetwork': 'virtualNetworkName',
      'azure-native:web:AppServicePlan': 'name',
      'azure-native:web:WebApp': 'name',
    };
    /** Physical names of the top-level (taggable) resources; sub-resources are named inside these. */
    const physicalNames = (resources: readonly RecordedResource[]): string[] =>
      taggable(resources)
        .filter((r) => r.type !== 'azure-native:keyvault:Secret')
        .map((r) => {
          const key = nameKeys[r.type];
          if (!key) throw new Error(`${r.urn}: no name key known for ${r.type}; add it to this test`);
          return String(at(r.inputs, key));
        });

    it('uses the names tenantResourceNames gives, within Azure naming rules', async () => {
      const { azureTenantResourceNames } = await import('../../tenant-stack/azure/tenant-names.ts');
      for (const key of ['a', 'b'] as const) {
        const names = azureTenantResourceNames(tenants[key].tenantId, tenants[key].creationId);
        const used = physicalNames(of(key));
        for (const expected of [names.resourceGroup, names.storageAccount, names.keyVault, names.functionApp, names.appServicePlan, names.identity, names.appInsights, names.virtualNetwork, names.logAnalyticsWorkspace]) {
          expect(used, `tenant ${tenants[key].tenantId}`).to.include(expected);
        }
        // https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
        expect(names.storageAccount).to.match(/^[a-z0-9]{3,24}$/);
        expect(names.keyVault).to.match(/^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/);
        expect(names.functionApp).to.match(/^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/);
        expect(names.resourceGroup).to.match(/^[-\w.()]{1,89}[-\w()]$/);
        expect(names.virtualNetwork).to.match(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9_]$/);
        expect(names.logAnalyticsWorkspace).to.match(/^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$/);
        expect(names.identity).to.match(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/);
      }
    });
    it('keeps names within the rules for the longest and shortest tenant ids', async () => {
      const { azureTenantResourceNames } = await import('../../tenant-stack/azure/tenant-names.ts');
      for (const id of ['abc', 'a-b-c', `a${'b1-'.repeat(10)}z`]) {
        const names = azureTenantResourceNames(id, 'abcd1234');
        expect(names.storageAccount, id).to.match(/^[a-z0-9]{3,24}$/);
        expect(names.keyVault, id).to.match(/^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/);
        expect(names.functionApp.length, id).to.be.at.most(60);
        expect(names.virtualNetwork.length, id).to.be.at.most(64);
      }
    });
    it('derives the same names from the same tenant (deterministic)', async () => {
      const { azureTenantResourceNames } = await import('../../tenant-stack/azure/tenant-names.ts');
      expect(azureTenantResourceNames('acme', 'k3x9q2')).to.deep.equal(azureTenantResourceNames('acme', 'k3x9q2'));
      expect(physicalNames(of('a'))).to.include(azureTenantResourceNames('acme', 'k3x9q2').keyVault);
      // A re-created tenant gets a fresh vault name (the old one stays reserved while soft-deleted).
      expect(azureTenantResourceNames('acme', 'zz99yy').keyVault).to.not.equal(azureTenantResourceNames('acme', 'k3x9q2').keyVault);
    });
    it('gives two tenants no shared resource name', () => {
      const a = new Set(physicalNames(of('a')));
      const shared = physicalNames(of('b')).filter((name) => a.has(name));
      expect(a.size).to.be.greaterThan(8);
      expect(shared, `shared: ${shared.join(', ')}`).to.be.empty;
    });
    it('keeps tenants whose ids differ only in hyphens apart', async () => {
      const { azureTenantResourceNames } = await import('../../tenant-stack/azure/tenant-names.ts');
      const x = azureTenantResourceNames('acme-1', 'abcd1234');
      const y = azureTenantResourceNames('acme1', 'abcd1234');
      for (const k of ['storageAccount', 'keyVault', 'functionApp', 'resourceGroup'] as const) expect(x[k], k).to.not.equal(y[k]);
    });
  });

  describe('outputs', () => {
    it('returns exactly the keys of the outputs contract', () => {
      for (const key of ['a', 'b'] as const) expect(Object.keys(outputs[key] ?? {}).sort()).to.deep.equal([...tenantOutputKeys].sort());
    });
    it('returns realistic values tied to the created resources', () => {
      const o = outputs.a as TenantStackOutputs;
      const site = ofType(of('a'), 'web:WebApp')[0] as RecordedResource;
      const account = ofType(of('a'), 'storage:StorageAccount')[0] as RecordedResource;
      const identity = ofType(of('a'), 'managedidentity:UserAssignedIdentity')[0] as RecordedResource;
      expect(o.tenantId).to.equal('acme');
      expect(o.resourceGroupName).to.equal('rg-zekt-acme');
      expect(o.baseUrl).to.equal(`https://${String(site.state.defaultHostName)}`);
      expect(o.webhookUrl).to.equal(`${o.baseUrl}/api/webhooks`);
      expect(o.messagesUrl).to.equal(`${o.baseUrl}/api/messages`);
      expect(o.storageAccountName).to.equal(at(account.inputs, 'accountName'));
      expect(o.blobEndpoint).to.equal(`https://${o.storageAccountName}.blob.core.windows.net/`);
      expect(o.queueEndpoint).to.equal(`https://${o.storageAccountName}.queue.core.windows.net/`);
      expect(o.tableEndpoint).to.equal(`https://${o.storageAccountName}.table.core.windows.net/`);
      expect(o.vaultUri).to.match(/^https:\/\/kvacme-[0-9a-f]{12}\.vault\.azure\.net\/$/);
      expect(o.identityClientId).to.equal(identity.state.clientId);
      expect(o.identityPrincipalId).to.equal(identity.state.principalId);
      for (const value of Object.values(o)) expect(value).to.be.a('string').and.not.equal('');
    });
  });

  describe('policy pack', () => {
    it('passes every policy of the zekt-azure pack', async () => {
      const { policyPackViolations } = await import('./support/policy-pack.ts');
      const found = await policyPackViolations(of('a'));
      expect(found, found.join('\n')).to.be.empty;
    });
  });

  describe('arguments', () => {
    it('rejects a bad argument before declaring anything, naming it', async () => {
      const { azureTenantProgram, TenantCompartmentArgsError } = await import('../../tenant-stack/azure/tenant-compartment.ts');
      const before = mocks.resources.length;
      expect(() => azureTenantProgram({ ...tenants.b, tenantId: 'Bad_Id' })).to.throw(/invalid tenant id/);
      expect(() => azureTenantProgram({ ...tenants.b, creationId: 'X' })).to.throw(TenantCompartmentArgsError, /creationId/);
      expect(() => azureTenantProgram({ ...tenants.b, location: 'West Europe' })).to.throw(TenantCompartmentArgsError, /location/);
      expect(() => azureTenantProgram({ ...tenants.b, messageRetentionDays: 0 })).to.throw(TenantCompartmentArgsError, /messageRetentionDays/);
      expect(mocks.resources.length).to.equal(before);
    });
  });
});
