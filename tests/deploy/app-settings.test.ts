/**
 * Every app setting a program writes is one the code reads: the platform's ingress app and worker
 * job, the Azure tenant app and the local target's tenant runtime, under Pulumi's mocks, against
 * `runtime/config.ts`'s settings.
 * Names read by Azure or Pulumi rather than by Zekt come from this literal table, each with its
 * reader. And each app gets the settings its entry cannot start without.
 */
import { expect } from 'chai';
import { settings } from '../../runtime/config.ts';
import { at, ofType } from '../pulumi/support/inspect.ts';
import { packageDirs, programSettings, type ProgramSettings } from './support/program-settings.ts';
import type { RecordedResource } from '../pulumi/support/azure-mocks.ts';

/** Read by the Functions host (Flex Consumption) or Application Insights, not by Zekt. */
const functionsHostSettings = [
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'languageWorkers__node__arguments',
];
/** Read by the Pulumi CLI (azblob backend) and the azure-native provider the worker runs. */
const engineSettings = ['AZURE_STORAGE_ACCOUNT', 'ARM_USE_MSI', 'ARM_CLIENT_ID', 'ARM_TENANT_ID', 'ARM_SUBSCRIPTION_ID', 'PULUMI_SKIP_UPDATE_CHECK'];

/** What each entry needs to start on Azure (runtime/azure/*-app.ts, automation/worker-main.ts). */
const required: Record<keyof Omit<ProgramSettings, 'resources'>, readonly string[]> = {
  platformApp: ['ZEKT_STORAGE_ACCOUNT_NAME', 'AZURE_CLIENT_ID', 'ZEKT_PLATFORM_VAULT_URL', 'AZURE_ENTRA_TENANT_ID', 'ZEKT_PUBLIC_URL', 'GITHUB_APP_ID', 'GITHUB_APP_CLIENT_ID', 'ZEKT_BROKER_AUDIENCE', 'ZEKT_BROKER_CLIENT_ID'],
  worker: ['ZEKT_TENANT_TARGET', 'ZEKT_STORAGE_ACCOUNT_NAME', 'ZEKT_PULUMI_BACKEND_URL', 'ZEKT_PULUMI_SECRETS_PROVIDER', 'ZEKT_TENANT_LOCATION', 'ZEKT_CONTROL_PLANE_PRINCIPAL_ID', 'ZEKT_BROKER_AUDIENCE', 'AZURE_CLIENT_ID'],
  tenantAppAzure: ['ZEKT_TENANT_ID', 'ZEKT_TENANT_VAULT_URL', 'ZEKT_STORAGE_ACCOUNT_NAME', 'AZURE_CLIENT_ID', 'ZEKT_BROKER_URL', 'ZEKT_BROKER_AUDIENCE'],
  // runtime/tenant/start-tenant-runtime.ts: its vault through the local identity, its storage by key, GitHub's URLs (the double's locally).
  tenantAppLocal: [
    'ZEKT_TENANT_ID',
    'ZEKT_TENANT_VAULT_URL',
    'ZEKT_STORAGE_CONNECTION_STRING',
    'ZEKT_LOCAL_IDENTITY_CLIENT_ID',
    'ZEKT_LOCAL_IDENTITY_SECRET',
    'ZEKT_BROKER_URL',
    'GITHUB_API_URL',
    'GITHUB_OIDC_ISSUER',
  ],
};

describe('app settings the programs write, against the settings the code reads', () => {
  let written: ProgramSettings;
  before(async function () {
    this.timeout(120_000);
    written = await programSettings();
  });

  const read = new Set(settings.map((s) => s.name));
  for (const app of ['platformApp', 'worker', 'tenantAppAzure', 'tenantAppLocal'] as const) {
    it(`${app}: every setting written is read by runtime/config.ts (or by the host or engine)`, () => {
      const others = new Set([...functionsHostSettings, ...(app === 'worker' ? engineSettings : [])]);
      const unread = Object.keys(written[app]).filter((name) => !read.has(name) && !others.has(name));
      expect(unread, `${app} gets settings nothing reads`).to.deep.equal([]);
    });
    it(`${app}: gets every setting its entry needs`, () => {
      const missing = required[app].filter((name) => !written[app][name]);
      expect(missing, `${app} lacks`).to.deep.equal([]);
    });
  }

  it('gives tenant apps the audience the platform registered for the broker (Entra application)', () => {
    const app = written.resources.find((r) => r.type === 'azuread:index/applicationRegistration:ApplicationRegistration') as RecordedResource;
    expect(app, 'no Entra application for the broker').to.exist;
    expect(at(app.inputs, 'signInAudience')).to.equal('AzureADMyOrg');
    expect(at(app.inputs, 'requestedAccessTokenVersion')).to.equal(2);
    const principal = written.resources.find((r) => r.type === 'azuread:index/servicePrincipal:ServicePrincipal') as RecordedResource;
    expect(at(principal.inputs, 'clientId'), 'service principal of the broker application').to.equal(app.state.clientId);
    expect(written.platformApp.ZEKT_BROKER_AUDIENCE).to.equal(`api://${String(app.state.clientId)}`);
    expect(written.platformApp.ZEKT_BROKER_CLIENT_ID).to.equal(app.state.clientId);
    expect(written.worker.ZEKT_BROKER_AUDIENCE).to.equal(written.platformApp.ZEKT_BROKER_AUDIENCE);
    expect(written.tenantAppAzure.ZEKT_BROKER_AUDIENCE).to.equal(written.platformApp.ZEKT_BROKER_AUDIENCE);
  });

  describe('the code each app runs', () => {
    const packageOf = (site: string) => {
      const app = ofType(written.resources, 'web:WebApp').find((r) => r.name === site) as RecordedResource;
      const blob = ofType(written.resources, 'storage:Blob').find((r) => r.name === site.replace(/-site$/, '-package')) as RecordedResource;
      return { app, blob };
    };
    for (const [label, site, dir] of [
      ['the platform program deploys the platform package', 'platform-ingress-functions-site', packageDirs.platform],
      ['the tenant program deploys the tenant package', 'acme-functions-site', packageDirs.tenant],
    ] as const) {
      it(`${label} into the container its app runs from`, async () => {
        const { app, blob } = packageOf(site);
        expect(blob, `${app.urn}: no package blob`).to.exist;
        const source = blob.inputs.source as { path: Promise<string> | string };
        expect(await source.path, blob.urn).to.equal(dir);
        // The name one deploy keeps a Flex Consumption app's package under (Microsoft's docs).
        expect(at(blob.inputs, 'blobName'), blob.urn).to.equal('released-package.zip');
        // The app runs from `<blob endpoint><container>`: the blob's account and container.
        const from = String(at(app.inputs, 'functionAppConfig.deployment.storage.value'));
        expect(from, app.urn).to.equal(`https://${String(at(blob.inputs, 'accountName'))}.blob.core.windows.net/${String(at(blob.inputs, 'containerName'))}`);
        expect(at(app.inputs, 'functionAppConfig.deployment.storage.authentication.type'), app.urn).to.equal('UserAssignedIdentity');
      });
    }
  });
});
