/**
 * Runs the programs that write app settings — the platform (ingress app + worker job), the Azure
 * tenant compartment and the local one (its function runtime's settings) — under Pulumi's mocks,
 * once per test process, and hands back what each wrote: the settings by app, and every recorded
 * resource.
 */
import { generateKeyPairSync } from 'node:crypto';
import { installAzureMocks, plain, valueOf, type RecordedResource } from '../../pulumi/support/azure-mocks.ts';
import { at, nameValues, ofType } from '../../pulumi/support/inspect.ts';

export interface ProgramSettings {
  readonly platformApp: Readonly<Record<string, string>>;
  readonly worker: Readonly<Record<string, string>>;
  readonly tenantAppAzure: Readonly<Record<string, string>>;
  /** The local target's tenant runtime (a process the resource manager starts with these settings). */
  readonly tenantAppLocal: Readonly<Record<string, string>>;
  readonly resources: readonly RecordedResource[];
}

export const packageDirs = { platform: 'dist/packages/platform-app', tenant: '/app/tenant-app' };

const secretConfig = {
  'zekt:githubAppPrivateKey': generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey,
  'zekt:githubWebhookSecret': 'whk-current-7a1b2c3d4e5f',
  'zekt:githubClientSecret': 'oauth-client-secret-9f8e7d',
  'zekt:sessionKey': 'c2Vzc2lvbi1rZXktMzItYnl0ZXMtb2YtcmFuZG9tbmVzcw==',
};

let run: Promise<ProgramSettings> | undefined;

const settingsOf = (list: unknown): Record<string, string> =>
  Object.fromEntries([...nameValues(list)].map(([name, value]) => [name, String(plain(value))]));

export function programSettings(): Promise<ProgramSettings> {
  return (run ??= (async () => {
    const mocks = await installAzureMocks(
      {
        ...secretConfig,
        'zekt:location': 'westeurope',
        'zekt:environment': 'prod',
        'zekt:githubAppId': '123456',
        'zekt:githubClientId': 'Iv23liTestClient',
        'zekt:workerImage': 'zektregistry.azurecr.io/zekt-provisioner:1.0.0',
        'zekt:platformPackageDir': packageDirs.platform,
      },
      Object.keys(secretConfig),
    );
    const { default: main } = await import('../../../platform/index.ts');
    const platform = await main();
    const brokerAudience = await valueOf(platform.brokerAudience as Parameters<typeof valueOf<string>>[0]);
    const { azureTenantProgram } = await import('../../../tenant-stack/azure/tenant-compartment.ts');
    await azureTenantProgram({
      tenantId: 'acme',
      creationId: 'k3x9q2',
      location: 'westeurope',
      controlPlanePrincipalId: '11111111-2222-4333-8444-555555555555',
      ingressPrincipalId: '99999999-8888-4777-8666-555555555555',
      platformBaseUrl: 'https://zekt.example.com',
      brokerAudience,
      packageDir: packageDirs.tenant,
    })();
    // The local target, with every optional argument the control plane passes (automation/create-control-plane.ts).
    const { tenantProgram } = await import('../../../tenant-stack/index.ts');
    await tenantProgram({
      target: 'local',
      tenantId: 'acme',
      creationId: 'k3x9q2',
      managerUrl: 'https://127.0.0.1:7072',
      managerToken: 'manager-token-for-the-mocks',
      platformVaultName: 'kv-zekt-platform',
      logLevel: 'info',
      platformUrl: 'http://127.0.0.1:7071',
      githubApiUrl: 'http://127.0.0.1:7080/api/v3',
      githubOidcIssuer: 'http://127.0.0.1:7080/oidc',
    })();
    await mocks.settle();
    const resources = [...mocks.resources];
    const site = (name: string) => ofType(resources, 'web:WebApp').find((r) => r.name === name) as RecordedResource;
    const job = ofType(resources, 'app:Job')[0] as RecordedResource;
    const required = (name: string): RecordedResource => {
      const found = resources.find((r) => r.name === name);
      if (!found) throw new Error(`the program registered no ${name}`);
      return found;
    };
    return {
      platformApp: settingsOf(at(site('platform-ingress-functions-site').inputs, 'siteConfig.appSettings')),
      worker: settingsOf(at(job.inputs, 'template.containers.0.env') ?? (at(job.inputs, 'template.containers') as { env: unknown }[])[0]?.env),
      tenantAppAzure: settingsOf(at(site('acme-functions-site').inputs, 'siteConfig.appSettings')),
      tenantAppLocal: Object.fromEntries(
        Object.entries(plain(required('tenant-acme-runtime').inputs.settings) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      resources,
    };
  })());
}
