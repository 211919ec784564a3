/**
 * The platform program under Pulumi's mocks, run through its real entry point (`platform/index.ts`)
 * with a full stack config: hardening, least-privilege identities, the provisioning worker's
 * constrained delegation, secrets only as Pulumi secrets, tags, names and outputs.
 */
import { readFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { installAzureMocks, isSecret, mockSubscriptionId, valueOf, type AzureMocks, type RecordedResource } from './support/azure-mocks.ts';
import { flexPlan, functionAppHardening, storageHardening, vaultHardening } from './support/hardening.ts';
import { at, nameValues, ofType, plaintextSecrets, taggable, violations } from './support/inspect.ts';
import { platformStorageResources } from '../../runtime/platform/platform-storage-layout.ts';
import { roleGuidOf } from '../../tenant-stack/azure/role-definitions.ts';
import { documentedRoleIds, documentedRoleOf, expectedTenantAssignableRoles, type DocumentedRole } from '../support/documented-role-ids.ts';

const secretConfig = {
  // A key made for this run: no key material is committed.
  'zekt:githubAppPrivateKey': generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey,
  'zekt:githubWebhookSecret': 'whk-current-3c1f9a7e5b2d',
  'zekt:githubWebhookSecretPrevious': 'whk-previous-8d2e4f6a1c0b',
  'zekt:githubClientSecret': 'oauth-client-secret-5e7a9c1b3d',
  'zekt:sessionKey': 'c2Vzc2lvbi1rZXktMzItYnl0ZXMtb2YtcmFuZG9tbmVzcw==',
};
const config = {
  ...secretConfig,
  'zekt:location': 'westeurope',
  'zekt:environment': 'prod',
  'zekt:githubAppId': '123456',
  'zekt:githubClientId': 'Iv23liTestClient',
  'zekt:workerImage': 'zektregistry.azurecr.io/zekt-provisioner:1.0.0',
  'zekt:workerRegistryServer': 'zektregistry.azurecr.io',
  'zekt:allowedIpRanges': '["203.0.113.0/28"]',
};
const subscription = `/subscriptions/${mockSubscriptionId}`;
/** Every built-in role the platform and tenant programs may assign (the tenant roles and the secrets-provider key's). */
const expectedZektRoles: readonly DocumentedRole[] = [...expectedTenantAssignableRoles, 'keyVaultCryptoUser'];

describe('platform stack (Azure) under Pulumi mocks', () => {
  let mocks: AzureMocks;
  let outputs: Record<string, unknown>;
  const started = Date.now();
  const all = (): RecordedResource[] => [...mocks.resources];
  const one = (type: string, name?: string): RecordedResource => {
    const found = ofType(all(), type).filter((r) => name === undefined || r.name === name);
    expect(found, `${type} ${name ?? ''}`).to.have.length(1);
    return found[0] as RecordedResource;
  };
  const identityNamed = (resourceName: string): RecordedResource =>
    ofType(all(), 'managedidentity:UserAssignedIdentity').find((r) => at(r.inputs, 'resourceName') === resourceName) as RecordedResource;
  const grantsOf = (principal: RecordedResource): RecordedResource[] =>
    ofType(all(), 'authorization:RoleAssignment').filter((a) => at(a.inputs, 'principalId') === principal.state.principalId);
  const roleOf = (a: RecordedResource): string => documentedRoleOf.get(roleGuidOf(String(at(a.inputs, 'roleDefinitionId')))) ?? 'custom';
  const targetOf = (a: RecordedResource): string => {
    const scope = String(at(a.inputs, 'scope'));
    return all().find((r) => r.id === scope && r.id !== '')?.name ?? scope;
  };

  before(async () => {
    mocks = await installAzureMocks(config, Object.keys(secretConfig));
    const { default: main } = await import('../../platform/index.ts');
    const result = await main();
    const entries = await Promise.all(
      Object.entries(result).map(async ([k, v]) => [k, await valueOf(v as Parameters<typeof valueOf>[0])] as const),
    );
    outputs = Object.fromEntries(entries);
    await mocks.settle();
  });

  after(() => {
    console.log(`      (platform program under mocks: ${Date.now() - started} ms, ${mocks.resources.length} registrations)`);
  });

  describe('control-plane storage', () => {
    for (const setting of storageHardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every storage account`, () => {
        const accounts = ofType(all(), 'storage:StorageAccount');
        expect(accounts).to.have.length(1);
        const found = violations(accounts, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('creates the registry tables, the queues with their poison queues and the containers', () => {
      const names = (type: string, key: string): string[] => ofType(all(), type).map((r) => String(at(r.inputs, key))).sort();
      // The runtime's own layout (runtime/platform/platform-storage-layout.ts), plus the ingress package.
      expect(names('storage:Table', 'tableName')).to.deep.equal([...platformStorageResources.tables].sort());
      expect(names('storage:Table', 'tableName')).to.include.members(['tenants', 'installations', 'deliveries', 'authstates', 'sessions']);
      expect(names('storage:Queue', 'queueName')).to.deep.equal(['ingress-deliveries', 'ingress-deliveries-poison', 'provisioning', 'provisioning-poison']);
      expect(names('storage:BlobContainer', 'containerName')).to.deep.equal(['deployment-package', 'pulumi-state', 'webhook-payloads']);
      const found = violations(ofType(all(), 'storage:BlobContainer'), [['publicAccess', 'None']]);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('expires raw webhook payloads with a lifecycle rule', () => {
      const policy = one('storage:ManagementPolicy');
      const rules = at(policy.inputs, 'policy.rules') as Record<string, unknown>[];
      const rule = rules.find((r) => JSON.stringify(at(r, 'definition.filters.prefixMatch')) === '["webhook-payloads/"]');
      expect(rule, `${policy.urn}: no rule for webhook-payloads/`).to.exist;
      expect(at(rule ?? {}, 'definition.actions.baseBlob.delete.daysAfterCreationGreaterThan')).to.equal(30);
    });
    it('keeps Pulumi state recoverable: blob versioning and soft delete on', () => {
      const service = one('storage:BlobServiceProperties');
      const found = violations([service], [
        ['isVersioningEnabled', true],
        ['deleteRetentionPolicy.enabled', true],
        ['containerDeleteRetentionPolicy.enabled', true],
      ]);
      expect(found, found.join('\n')).to.be.empty;
      expect(at(service.inputs, 'deleteRetentionPolicy.days') as number).to.be.greaterThan(0);
    });
  });

  describe('platform vault', () => {
    for (const setting of vaultHardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every vault`, () => {
        const vaults = ofType(all(), 'keyvault:Vault');
        expect(vaults).to.have.length(1);
        const found = violations(vaults, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('admits only the platform subnets and the configured break-glass ranges', () => {
      const vault = one('keyvault:Vault');
      const network = one('network:VirtualNetwork');
      expect((at(vault.inputs, 'properties.networkAcls.virtualNetworkRules') as { id: string }[]).map((r) => r.id)).to.deep.equal([
        `${network.id}/subnets/ingress`,
        `${network.id}/subnets/worker`,
      ]);
      expect(at(vault.inputs, 'properties.networkAcls.ipRules')).to.deep.equal([{ value: '203.0.113.0/28' }]);
    });
    it('holds every GitHub secret from secret config, as Pulumi secrets', () => {
      const secrets = ofType(all(), 'keyvault:Secret');
      expect(secrets.map((s) => at(s.inputs, 'secretName')).sort()).to.deep.equal([
        'github-app-private-key',
        'github-oauth-client-secret',
        'github-webhook-secret',
        'github-webhook-secret-previous',
        'session-key',
      ]);
      for (const secret of secrets) expect(isSecret(secret.inputs.properties), `${secret.urn}: not a Pulumi secret`).to.equal(true);
      const key = secrets.find((s) => at(s.inputs, 'secretName') === 'github-app-private-key') as RecordedResource;
      expect(at(key.inputs, 'properties.value')).to.equal(secretConfig['zekt:githubAppPrivateKey']);
    });
    it('has a non-exportable RSA key for the Pulumi secrets provider', () => {
      const key = one('keyvault:Key');
      const found = violations([key], [
        ['keyName', 'pulumi-secrets'],
        ['properties.kty', 'RSA'],
        ['properties.attributes.exportable', false],
      ]);
      expect(found, found.join('\n')).to.be.empty;
      expect(at(key.inputs, 'properties.keySize') as number).to.be.at.least(2048);
    });
  });

  describe('ingress Functions app', () => {
    for (const setting of functionAppHardening) {
      it(`sets ${setting[0]} = ${JSON.stringify(setting[1])} on every Functions app`, () => {
        const sites = ofType(all(), 'web:WebApp');
        expect(sites).to.have.length(1);
        const found = violations(sites, [setting]);
        expect(found, found.join('\n')).to.be.empty;
      });
    }
    it('runs on a Linux Flex Consumption (FC1) plan', () => {
      const found = violations(ofType(all(), 'web:AppServicePlan'), flexPlan);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('turns basic-auth publishing off for both FTP and SCM', () => {
      const site = one('web:WebApp');
      for (const type of ['web:WebAppFtpAllowed', 'web:WebAppScmAllowed']) {
        const policy = one(type);
        expect(at(policy.inputs, 'name'), policy.urn).to.equal(at(site.inputs, 'name'));
        expect(at(policy.inputs, 'allow'), policy.urn).to.equal(false);
      }
    });
    it('reaches storage and telemetry with its own identity only', () => {
      const site = one('web:WebApp');
      const identity = identityNamed('id-zekt-ingress-prod');
      const settings = nameValues(at(site.inputs, 'siteConfig.appSettings'));
      expect(settings.get('AzureWebJobsStorage__credential'), site.urn).to.equal('managedidentity');
      expect(settings.get('AzureWebJobsStorage__clientId'), site.urn).to.equal(identity.state.clientId);
      expect(settings.get('AzureWebJobsStorage__accountName'), site.urn).to.equal(outputs.storageAccountName);
      expect(settings.has('AzureWebJobsStorage'), site.urn).to.equal(false);
      expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'), site.urn).to.equal(`Authorization=AAD;ClientId=${String(identity.state.clientId)}`);
      expect(settings.get('ZEKT_PLATFORM_VAULT_URL'), site.urn).to.equal(outputs.platformVaultUri);
      expect(at(site.inputs, 'identity.userAssignedIdentities'), site.urn).to.deep.equal([identity.id]);
      const found = [
        ...violations(ofType(all(), 'applicationinsights:Component'), [['disableLocalAuth', true]]),
        ...violations(ofType(all(), 'operationalinsights:Workspace'), [['features.disableLocalAuth', true]]),
      ];
      expect(found, found.join('\n')).to.be.empty;
    });
    it('gives the Node worker the young-generation size the intake is tuned for', () => {
      const settings = nameValues(at(one('web:WebApp').inputs, 'siteConfig.appSettings'));
      expect(settings.get('languageWorkers__node__arguments')).to.equal('--max-semi-space-size=32');
    });
    it('keeps every app setting free of secrets, even wrapped as Pulumi secrets', () => {
      const site = one('web:WebApp');
      expect(isSecret(site.inputs.siteConfig), `${site.urn}: siteConfig carries a secret`).to.equal(false);
      for (const [name, value] of nameValues(at(site.inputs, 'siteConfig.appSettings'))) {
        expect(isSecret(value), `${site.urn}: app setting ${name} is a secret`).to.equal(false);
      }
    });
    it('grants the ingress identity roles on platform resources only, never on Pulumi state', () => {
      const grants = grantsOf(identityNamed('id-zekt-ingress-prod'));
      expect(grants.map((a) => `${roleOf(a)} @ ${targetOf(a)}`).sort()).to.deep.equal([
        'keyVaultSecretsUser @ platform-vault-kv-vault',
        'monitoringMetricsPublisher @ platform-monitoring-appinsights',
        'storageBlobDataOwner @ platform-storage-account',
        'storageQueueDataContributor @ platform-storage-account',
        'storageTableDataContributor @ platform-storage-account',
      ]);
      const blob = grants.find((a) => roleOf(a) === 'storageBlobDataOwner') as RecordedResource;
      const condition = String(at(blob.inputs, 'condition'));
      expect(at(blob.inputs, 'conditionVersion'), blob.urn).to.equal('2.0');
      expect(condition, blob.urn).to.contain("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals 'pulumi-state'");
      for (const action of ['read', 'write', 'delete', 'add/action', 'runAsSuperUser/action']) {
        expect(condition, `${blob.urn}: ${action} not covered`).to.contain(`containers/blobs/${action}'}`);
      }
    });
  });

  describe('provisioning worker', () => {
    const worker = (): RecordedResource => identityNamed('id-zekt-provisioner-prod');

    it('runs as an event-driven Container Apps job scaled by the provisioning queue with identity-based auth', () => {
      const job = one('app:Job');
      const found = violations([job], [
        ['configuration.triggerType', 'Event'],
        ['configuration.eventTriggerConfig.scale.minExecutions', 0],
        ['identity.type', 'UserAssigned'],
      ]);
      expect(found, found.join('\n')).to.be.empty;
      const [rule, ...more] = at(job.inputs, 'configuration.eventTriggerConfig.scale.rules') as Record<string, unknown>[];
      expect(more, job.urn).to.be.empty;
      expect(at(rule ?? {}, 'type'), job.urn).to.equal('azure-queue');
      expect(at(rule ?? {}, 'identity'), job.urn).to.equal(worker().id);
      expect(at(rule ?? {}, 'metadata'), job.urn).to.deep.equal({ accountName: outputs.storageAccountName, queueName: 'provisioning', queueLength: '1' });
      expect(at(rule ?? {}, 'auth'), `${job.urn}: scale rule uses a secret`).to.equal(undefined);
    });
    it('allows a replica long enough for `pulumi up`', () => {
      const job = one('app:Job');
      expect(at(job.inputs, 'configuration.replicaTimeout') as number, job.urn).to.be.at.least(3600);
    });
    it('runs the configured image, pulled with its identity, with no secret in its environment', () => {
      const job = one('app:Job');
      const [container] = at(job.inputs, 'template.containers') as Record<string, unknown>[];
      expect(at(container ?? {}, 'image'), job.urn).to.equal(config['zekt:workerImage']);
      expect(at(job.inputs, 'configuration.registries'), job.urn).to.deep.equal([{ server: 'zektregistry.azurecr.io', identity: worker().id }]);
      expect(at(job.inputs, 'configuration.secrets'), job.urn).to.equal(undefined);
      const env = nameValues(at(container ?? {}, 'env'));
      expect(env.get('ZEKT_PULUMI_BACKEND_URL')).to.equal('azblob://pulumi-state');
      expect(env.get('ZEKT_PULUMI_SECRETS_PROVIDER')).to.equal(outputs.pulumiSecretsProvider);
      expect(env.get('AZURE_CLIENT_ID')).to.equal(worker().state.clientId);
      expect(env.get('ARM_USE_MSI')).to.equal('true');
      expect(env.get('ZEKT_CONTROL_PLANE_PRINCIPAL_ID')).to.equal(worker().state.principalId);
      for (const [name, value] of env) expect(isSecret(value), `${job.urn}: env ${name} is a secret`).to.equal(false);
    });
    it('logs through Azure Monitor (no workspace key) and has no public endpoint', () => {
      const environment = one('app:ManagedEnvironment');
      const found = violations([environment], [
        ['appLogsConfiguration.destination', 'azure-monitor'],
        ['vnetConfiguration.internal', true],
      ]);
      expect(found, found.join('\n')).to.be.empty;
      expect(at(one('monitor:DiagnosticSetting').inputs, 'resourceUri')).to.equal(environment.id);
    });
    it('manages tenant compartments through a custom role without wildcards, data actions or key listing', () => {
      const role = one('authorization:RoleDefinition', 'platform-provisioner-provisioner-role');
      const [permission, ...more] = at(role.inputs, 'permissions') as { actions: string[]; dataActions: string[] }[];
      expect(more, role.urn).to.be.empty;
      const actions = permission?.actions ?? [];
      const bad = actions.filter(
        (a) => a.includes('*') || /listkeys|regeneratekey|elevateAccess|roleDefinitions\/write|policyAssignments|policyDefinitions|locks/i.test(a),
      );
      expect(bad, `${role.urn}: ${bad.join(', ')}`).to.be.empty;
      expect(permission?.dataActions, role.urn).to.deep.equal([]);
      expect(actions).to.include.members(['Microsoft.Resources/subscriptions/resourceGroups/write', 'Microsoft.Authorization/roleAssignments/write']);
      expect(at(role.inputs, 'assignableScopes'), role.urn).to.deep.equal([subscription]);
    });
    it('may assign only the tenant roles, to service principals only (constrained delegation)', () => {
      const assignment = one('authorization:RoleAssignment', 'platform-provisioner-provisioner');
      const role = one('authorization:RoleDefinition', 'platform-provisioner-provisioner-role');
      expect(at(assignment.inputs, 'roleDefinitionId'), assignment.urn).to.equal(role.id);
      expect(at(assignment.inputs, 'scope'), assignment.urn).to.equal(subscription);
      expect(at(assignment.inputs, 'conditionVersion'), assignment.urn).to.equal('2.0');
      const condition = String(at(assignment.inputs, 'condition'));
      const lists = [...condition.matchAll(/GuidEquals \{([^}]*)\}/g)].map((m) => (m[1] ?? '').split(',').map((g) => g.trim()).sort());
      const expected = expectedTenantAssignableRoles.map((r) => documentedRoleIds[r]).sort();
      expect(lists, assignment.urn).to.deep.equal([expected, expected]);
      expect(condition, assignment.urn).to.contain("ActionMatches{'Microsoft.Authorization/roleAssignments/write'}");
      expect(condition, assignment.urn).to.contain("ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}");
      expect(condition, assignment.urn).to.contain("PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}");
    });
    it('holds exactly: state container, secrets-provider key, its queues, the registry table and the subnet join', () => {
      const grants = grantsOf(worker()).filter((a) => a.name !== 'platform-provisioner-provisioner');
      expect(grants.map((a) => `${roleOf(a)} @ ${targetOf(a)}`).sort()).to.deep.equal([
        'custom @ ' + `${one('network:VirtualNetwork').id}/subnets/ingress`,
        'custom @ ' + `${one('network:VirtualNetwork').id}/subnets/worker`,
        'keyVaultCryptoUser @ platform-vault-secrets-provider-key',
        'storageBlobDataContributor @ platform-storage-container-pulumi-state',
        'storageQueueDataContributor @ platform-storage-queue-provisioning',
        'storageQueueDataContributor @ platform-storage-queue-provisioning-poison',
        'storageTableDataContributor @ platform-storage-table-tenants',
      ]);
      const joiner = one('authorization:RoleDefinition', 'platform-provisioner-subnet-joiner-role');
      expect(at(joiner.inputs, 'permissions')).to.deep.equal([
        { actions: ['Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action'], notActions: [], dataActions: [], notDataActions: [] },
      ]);
    });
    it('cannot read any platform secret (no grant on the platform vault)', () => {
      const vault = one('keyvault:Vault');
      const onVault = grantsOf(worker()).filter((a) => String(at(a.inputs, 'scope')).startsWith(vault.id) && !String(at(a.inputs, 'scope')).includes('/keys/'));
      expect(onVault.map((a) => a.urn)).to.be.empty;
    });
  });

  describe('role assignments', () => {
    const assignments = (): RecordedResource[] => ofType(all(), 'authorization:RoleAssignment');
    it('assigns to service principals only', () => {
      const found = violations(assignments(), [['principalType', 'ServicePrincipal']]);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('uses only Zekt roles, or a custom role of this stack', () => {
      const allowed = new Set<string>(expectedZektRoles.map((r) => documentedRoleIds[r]));
      const custom = new Set(ofType(all(), 'authorization:RoleDefinition').map((r) => r.id));
      const found = assignments()
        .filter((a) => !allowed.has(roleGuidOf(String(at(a.inputs, 'roleDefinitionId')))) && !custom.has(String(at(a.inputs, 'roleDefinitionId'))))
        .map((a) => `${a.urn}: role ${String(at(a.inputs, 'roleDefinitionId'))}`);
      expect(found, found.join('\n')).to.be.empty;
    });
    it('scopes every assignment to a platform resource, except the constrained provisioner role', () => {
      const own = new Set(all().filter((r) => r.type !== 'azure-native:resources:ResourceGroup' && r.id.includes('/providers/')).map((r) => r.id));
      const subnets = all().filter((r) => r.type === 'azure-native:network:VirtualNetwork').flatMap((n) => ((n.state.subnets ?? []) as { id: string }[]).map((s) => s.id));
      for (const id of subnets) own.add(id);
      const found: string[] = [];
      for (const a of assignments()) {
        const scope = String(at(a.inputs, 'scope'));
        if (a.name === 'platform-provisioner-provisioner') {
          if (scope !== subscription || !String(at(a.inputs, 'condition')).includes('GuidEquals')) found.push(`${a.urn}: unconstrained`);
          continue;
        }
        if (!own.has(scope)) found.push(`${a.urn}: scope ${scope} is not a platform resource`);
      }
      expect(found, found.join('\n')).to.be.empty;
    });
  });

  describe('guardrails on the tenant subscription', () => {
    it('denies tenant data roles at subscription, management-group and resource-group scope', () => {
      const definition = one('authorization:PolicyDefinition', 'platform-guardrails-broad-role-assignments');
      const rule = at(definition.inputs, 'policyRule') as Record<string, unknown>;
      expect(at(rule, 'then.effect')).to.equal('deny');
      const text = JSON.stringify(rule);
      for (const role of expectedTenantAssignableRoles) expect(text, role).to.contain(documentedRoleIds[role]);
      expect(text).to.contain("[length(split(field('id'), '/'))]");
      const assignment = one('authorization:PolicyAssignment', 'platform-guardrails-broad-role-assignments-assignment');
      expect(at(assignment.inputs, 'scope')).to.equal(subscription);
      expect(at(assignment.inputs, 'policyDefinitionId')).to.equal(definition.id);
      expect(at(assignment.inputs, 'enforcementMode')).to.equal('Default');
    });
    it('denies Zekt Key Vaults without RBAC authorization', () => {
      const definition = one('authorization:PolicyDefinition', 'platform-guardrails-rbac-key-vaults');
      expect(at(definition.inputs, 'policyRule.then.effect')).to.equal('deny');
      expect(JSON.stringify(at(definition.inputs, 'policyRule'))).to.contain('enableRbacAuthorization');
    });
  });

  describe('secrets', () => {
    it('passes no secret in plain text to any resource input', () => {
      const found = plaintextSecrets(all(), Object.values(secretConfig));
      expect(found, found.join('\n')).to.be.empty;
    });
    it('exports no secret among the stack outputs', () => {
      const text = JSON.stringify(outputs);
      for (const secret of Object.values(secretConfig)) expect(text.includes(secret)).to.equal(false);
    });
  });

  describe('tags', () => {
    it('tags every taggable resource with zekt:managed-by and zekt:environment', () => {
      const found = taggable(all())
        .filter((r) => at(r.inputs, 'tags.zekt:managed-by') !== 'zekt-platform' || at(r.inputs, 'tags.zekt:environment') !== 'prod')
        .map((r) => `${r.urn}: tags ${JSON.stringify(at(r.inputs, 'tags'))}`);
      expect(found, found.join('\n')).to.be.empty;
    });
  });

  describe('names', () => {
    it('names resources within Azure rules, deterministically from the environment', async () => {
      const { platformResourceNames } = await import('../../platform/platform-names.ts');
      const names = platformResourceNames('prod');
      expect(platformResourceNames('prod')).to.deep.equal(names);
      expect(names.storageAccount).to.match(/^[a-z0-9]{3,24}$/);
      expect(names.keyVault).to.match(/^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/);
      expect(names.provisioningJob).to.match(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/);
      expect(names.functionApp.length).to.be.at.most(60);
      expect(at(one('storage:StorageAccount').inputs, 'accountName')).to.equal(names.storageAccount);
      expect(at(one('keyvault:Vault').inputs, 'vaultName')).to.equal(names.keyVault);
      expect(at(one('app:Job').inputs, 'jobName')).to.equal(names.provisioningJob);
      const longest = platformResourceNames('abcdefgh');
      expect(longest.storageAccount).to.match(/^[a-z0-9]{3,24}$/);
      expect(longest.keyVault.length).to.be.at.most(24);
      expect(platformResourceNames('staging').storageAccount).to.not.equal(platformResourceNames('stagin').storageAccount);
      expect(() => platformResourceNames('Prod')).to.throw(/invalid environment/);
    });
  });

  describe('outputs', () => {
    it('gives the ingress base URL and the three GitHub App URLs', () => {
      const site = one('web:WebApp');
      const base = `https://${String(site.state.defaultHostName)}`;
      expect(outputs.ingressBaseUrl).to.equal(base);
      expect(outputs.githubWebhookUrl).to.equal(`${base}/api/github/webhooks`);
      expect(outputs.oauthCallbackUrl).to.equal(`${base}/api/auth/callback`);
      expect(outputs.setupUrl).to.equal(`${base}/api/github/setup`);
    });
    it('gives what the control plane needs: backend, secrets provider, principals, subnets', () => {
      expect(outputs.pulumiBackendUrl).to.equal('azblob://pulumi-state');
      expect(outputs.pulumiSecretsProvider).to.match(/^azurekeyvault:\/\/kvzektprod-[0-9a-f]{8}\.vault\.azure\.net\/keys\/pulumi-secrets$/);
      expect(outputs.controlPlanePrincipalId).to.equal(identityNamed('id-zekt-provisioner-prod').state.principalId);
      expect(outputs.ingressPrincipalId).to.equal(identityNamed('id-zekt-ingress-prod').state.principalId);
      expect(outputs.platformSubnetIds).to.have.length(2);
      expect(outputs.provisioningJobName).to.equal('caj-zekt-prov-prod');
    });
    it('renders the GitHub App manifest with this deployment\'s URLs', () => {
      const manifest = JSON.parse(String(outputs.githubAppManifest)) as Record<string, unknown>;
      expect(at(manifest, 'hook_attributes.url')).to.equal(outputs.githubWebhookUrl);
      expect(manifest.callback_urls).to.deep.equal([outputs.oauthCallbackUrl]);
      expect(manifest.setup_url).to.equal(outputs.setupUrl);
      expect(String(outputs.githubAppManifest)).to.not.contain('example.com');
    });
  });

  describe('policy pack', () => {
    it('passes every policy of the zekt-azure pack', async () => {
      const { policyPackViolations } = await import('./support/policy-pack.ts');
      const found = await policyPackViolations(all());
      expect(found, found.join('\n')).to.be.empty;
    });
  });

  describe('config', () => {
    it('documents every config key in docs/deploy-azure.md, secrets with --secret', async () => {
      const { platformConfigKeys } = await import('../../platform/platform-config.ts');
      const doc = await readFile(new URL('../../docs/deploy-azure.md', import.meta.url), 'utf8');
      for (const key of platformConfigKeys) {
        expect(doc, key.key).to.contain(`zekt:${key.key}`);
        if (key.secret) expect(doc, key.key).to.match(new RegExp(`pulumi config set --secret zekt:${key.key}\\b`));
      }
    });
    it('reads every secret key as a Pulumi secret', async () => {
      const pulumi = await import('@pulumi/pulumi');
      const { readPlatformConfig, platformConfigKeys } = await import('../../platform/platform-config.ts');
      const read = readPlatformConfig(new pulumi.Config('zekt'), 'prod') as unknown as Record<string, unknown>;
      for (const { key } of platformConfigKeys.filter((k) => k.secret)) {
        const value = read[key];
        expect(pulumi.Output.isInstance(value), key).to.equal(true);
        expect(await pulumi.isSecret(value as Parameters<typeof pulumi.isSecret>[0]), key).to.equal(true);
      }
    });
    it('names every missing or invalid key at once', async () => {
      const pulumi = await import('@pulumi/pulumi');
      const { readPlatformConfig, PlatformConfigError } = await import('../../platform/platform-config.ts');
      pulumi.runtime.setAllConfig({ 'zekt:location': 'West Europe', 'zekt:workerImage': 'latest' }, []);
      try {
        expect(() => readPlatformConfig(new pulumi.Config('zekt'), 'prod'))
          .to.throw(PlatformConfigError)
          .with.property('message')
          .that.matches(/zekt:location/)
          .and.matches(/zekt:workerImage/)
          .and.matches(/zekt:githubAppId is required/)
          .and.matches(/pulumi config set --secret zekt:githubAppPrivateKey/);
      } finally {
        pulumi.runtime.setAllConfig(config, Object.keys(secretConfig));
      }
    });
  });
});
