import { expect } from 'chai';
import { functionAppBasicAuthOff, functionAppHardening, functionAppRequirements } from '../../policy/function-app-hardening.ts';
import { resourceViolations, stackViolations, withSetting } from './support/policy-harness.ts';
import { functionApp, managedBy } from './fixtures.ts';

const type = 'azure-native:web:WebApp';
const settings = (props: Record<string, unknown>): { name: string; value: string }[] =>
  (props.siteConfig as { appSettings: { name: string; value: string }[] }).appSettings;

describe('policy zekt-function-app-hardening', () => {
  it('passes a hardened Functions app', async () => {
    expect(await resourceViolations(functionAppHardening, type, functionApp())).to.deep.equal([]);
  });
  for (const { path, value } of functionAppRequirements) {
    it(`reports ${path} when it is not ${JSON.stringify(value)}`, async () => {
      const wrong = typeof value === 'boolean' ? !value : value === '1.2' ? '1.0' : value === 'Disabled' ? 'AllAllowed' : 'SystemAssigned';
      const found = await resourceViolations(functionAppHardening, type, withSetting(functionApp(), path, wrong));
      expect(found).to.have.length(1);
      expect(found[0]?.message).to.contain(path);
    });
  }
  it('reports a storage connection string in app settings', async () => {
    const props = functionApp();
    settings(props).push({ name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y' });
    const found = await resourceViolations(functionAppHardening, type, props);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/AzureWebJobsStorage holds a storage credential/);
  });
  it('reports host storage without the managed identity', async () => {
    const props = functionApp();
    (props.siteConfig as { appSettings: unknown[] }).appSettings = settings(props).filter((s) => s.name !== 'AzureWebJobsStorage__credential');
    const found = await resourceViolations(functionAppHardening, type, props);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/AzureWebJobsStorage__credential/);
  });
  it('reports telemetry sent with the instrumentation key instead of Entra auth', async () => {
    const props = functionApp();
    (props.siteConfig as { appSettings: unknown[] }).appSettings = settings(props).filter((s) => s.name !== 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    const found = await resourceViolations(functionAppHardening, type, props);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
  });
  it('ignores web apps that are not Functions apps', async () => {
    expect(await resourceViolations(functionAppHardening, type, { ...withSetting(functionApp(), 'httpsOnly', false), kind: 'app,linux' })).to.deep.equal([]);
  });
  it('reports FTP or SCM basic-auth publishing left on', async () => {
    for (const policyType of ['azure-native:web:WebAppFtpAllowed', 'azure-native:web:WebAppScmAllowed']) {
      expect(await resourceViolations(functionAppHardening, policyType, { name: 'f', resourceGroupName: 'rg', allow: false }), policyType).to.deep.equal([]);
      const found = await resourceViolations(functionAppHardening, policyType, { name: 'f', resourceGroupName: 'rg', allow: true });
      expect(found.map((v) => v.message), policyType).to.have.length(1).and.to.match(/basic-auth publishing must be off/);
    }
  });
});

describe('policy zekt-function-app-basic-auth-off', () => {
  const site = { type, name: 'site', props: { ...functionApp(), tags: managedBy } };
  // As ARM answers: the policy's own name (`ftp`, `scm`), tied to its site by dependency.
  const ftp = { type: 'azure-native:web:WebAppFtpAllowed', name: 'ftp', props: { name: 'ftp', allow: false }, dependsOn: ['site'] };
  const scm = { type: 'azure-native:web:WebAppScmAllowed', name: 'scm', props: { name: 'scm', allow: false }, dependsOn: ['site'] };
  it('passes a Functions app with both basic-auth policies off', async () => {
    expect(await stackViolations(functionAppBasicAuthOff, [site, ftp, scm])).to.deep.equal([]);
  });
  it('reports a Functions app missing the SCM policy, naming its URN', async () => {
    const found = await stackViolations(functionAppBasicAuthOff, [site, ftp]);
    expect(found).to.have.length(1);
    expect(found[0]?.message).to.match(/WebAppScmAllowed/);
    expect(found[0]?.urn).to.contain('azure-native:web:WebApp::site');
  });
  it('does not count the policies of another site', async () => {
    const other = [{ ...ftp, dependsOn: ['other'] }, { ...scm, dependsOn: ['other'] }];
    expect(await stackViolations(functionAppBasicAuthOff, [site, ...other])).to.have.length(2);
  });
  it('reports a Functions app whose FTP policy allows basic auth', async () => {
    const found = await stackViolations(functionAppBasicAuthOff, [site, { ...ftp, props: { ...ftp.props, allow: true } }, scm]);
    expect(found.map((v) => v.message)).to.have.length(1).and.to.match(/WebAppFtpAllowed/);
  });
});
