/**
 * Every Functions app: HTTPS only, TLS 1.2 on the site and its SCM endpoint, FTP(S) off, a
 * user-assigned identity, identity-based host storage and deployment storage, and basic-auth
 * publishing off for FTP and SCM (checked across the stack: the two policy resources must exist).
 */
import {
  validateResourceOfType,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from '@pulumi/policy';
import * as web from '@pulumi/azure-native/web/index.js';
import { checkSettings, type Requirement } from './settings-check.ts';

export const functionAppRequirements: readonly Requirement[] = [
  { path: 'httpsOnly', value: true, why: 'plain HTTP is redirected, never served' },
  { path: 'siteConfig.minTlsVersion', value: '1.2', why: 'older TLS versions are broken' },
  { path: 'siteConfig.scmMinTlsVersion', value: '1.2', why: 'the SCM (Kudu) endpoint needs TLS 1.2 too' },
  { path: 'siteConfig.ftpsState', value: 'Disabled', why: 'no FTP or FTPS deployment channel' },
  { path: 'identity.type', value: 'UserAssigned', why: 'the app runs as its own managed identity' },
  { path: 'functionAppConfig.deployment.storage.authentication.type', value: 'UserAssignedIdentity', why: 'the deployment package is read with the identity, not a connection string' },
];

/** App settings that would carry a storage credential instead of the identity. */
const credentialSettings = /^(AzureWebJobsStorage|WEBSITE_CONTENTAZUREFILECONNECTIONSTRING|DEPLOYMENT_STORAGE_CONNECTION_STRING)$/;

function isFunctionApp(kind: unknown): boolean {
  return typeof kind === 'string' && kind.split(',').includes('functionapp');
}

export const functionAppHardening: ResourceValidationPolicy = {
  name: 'zekt-function-app-hardening',
  description: 'Functions apps are HTTPS/TLS 1.2 only (site and SCM), FTP off, identity-based storage, basic-auth publishing off.',
  enforcementLevel: 'mandatory',
  validateResource: [
    validateResourceOfType(web.WebApp, (site, args, report) => {
      if (!isFunctionApp(site.kind)) return;
      const what = `functions app ${args.name}`;
      checkSettings(site, functionAppRequirements, what, report);
      const settings = new Map((site.siteConfig?.appSettings ?? []).map((s) => [s.name ?? '', s.value]));
      for (const name of settings.keys()) {
        if (credentialSettings.test(name)) report(`${what}: app setting ${name} holds a storage credential; use AzureWebJobsStorage__accountName with the identity`);
      }
      if (settings.get('AzureWebJobsStorage__credential') !== 'managedidentity') {
        report(`${what}: AzureWebJobsStorage__credential must be "managedidentity"`);
      }
      if (!String(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING') ?? '').startsWith('Authorization=AAD')) {
        report(`${what}: APPLICATIONINSIGHTS_AUTHENTICATION_STRING must use Entra auth (Authorization=AAD;ClientId=…)`);
      }
    }),
    validateResourceOfType(web.WebAppFtpAllowed, (policy, args, report) => {
      if (policy.allow !== false) report(`${args.name}: FTP basic-auth publishing must be off (allow: false)`);
    }),
    validateResourceOfType(web.WebAppScmAllowed, (policy, args, report) => {
      if (policy.allow !== false) report(`${args.name}: SCM basic-auth publishing must be off (allow: false)`);
    }),
  ],
};

export const functionAppBasicAuthOff: StackValidationPolicy = {
  name: 'zekt-function-app-basic-auth-off',
  description: 'Every Functions app has its FTP and SCM basic-auth publishing credentials turned off.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    // A policy resource's own `name` output is `ftp`/`scm`; it belongs to the site it depends on.
    const offFor = (type: string, site: PolicyResource): boolean =>
      args.resources.some((r) => r.type === type && r.props.allow === false && r.dependencies.some((d) => d.urn === site.urn));
    for (const site of args.resources.filter((r) => r.type === 'azure-native:web:WebApp' && isFunctionApp(r.props.kind))) {
      const name = String(site.props.name);
      if (!offFor('azure-native:web:WebAppFtpAllowed', site)) report(`functions app ${name}: no WebAppFtpAllowed with allow: false`, site.urn);
      if (!offFor('azure-native:web:WebAppScmAllowed', site)) report(`functions app ${name}: no WebAppScmAllowed with allow: false`, site.urn);
    }
  },
};
