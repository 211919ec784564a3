/**
 * Names of the shared platform's resources, derived from the environment name (`prod`, `staging`)
 * within Azure's rules (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules):
 * storage 3–24 lowercase letters/digits and Key Vault 3–24 characters, both globally unique (hence
 * the hash); Container Apps jobs 2–32 lowercase letters, digits and hyphens.
 */
import { createHash } from 'node:crypto';

export const environmentPattern = /^[a-z][a-z0-9]{1,7}$/;

export interface PlatformResourceNames {
  readonly resourceGroup: string;
  readonly storageAccount: string;
  readonly keyVault: string;
  readonly secretsProviderKey: string;
  readonly functionApp: string;
  readonly appServicePlan: string;
  readonly ingressIdentity: string;
  readonly workerIdentity: string;
  readonly logAnalyticsWorkspace: string;
  readonly appInsights: string;
  readonly virtualNetwork: string;
  readonly containerAppsEnvironment: string;
  readonly provisioningJob: string;
  readonly provisionerRole: string;
  readonly subnetJoinerRole: string;
}

export function platformResourceNames(environment: string): PlatformResourceNames {
  if (!environmentPattern.test(environment)) {
    throw new Error(`invalid environment ${JSON.stringify(environment)}: use 2-8 lowercase letters and digits, starting with a letter`);
  }
  const h = createHash('sha256').update(`zekt-platform/${environment}`).digest('hex').slice(0, 8);
  return {
    resourceGroup: `rg-zekt-platform-${environment}`,
    // 'ztplat' 6 + ≤8 + 8 = ≤22
    storageAccount: `ztplat${environment}${h}`,
    // 'kvzekt' 6 + ≤8 + '-' + 8 = ≤23
    keyVault: `kvzekt${environment}-${h}`,
    secretsProviderKey: 'pulumi-secrets',
    functionApp: `func-zekt-ingress-${environment}-${h}`,
    appServicePlan: `plan-zekt-ingress-${environment}`,
    ingressIdentity: `id-zekt-ingress-${environment}`,
    workerIdentity: `id-zekt-provisioner-${environment}`,
    logAnalyticsWorkspace: `log-zekt-platform-${environment}`,
    appInsights: `appi-zekt-platform-${environment}`,
    virtualNetwork: `vnet-zekt-platform-${environment}`,
    containerAppsEnvironment: `cae-zekt-${environment}`,
    // 'caj-zekt-prov-' 14 + ≤8 = ≤22
    provisioningJob: `caj-zekt-prov-${environment}`,
    provisionerRole: `Zekt tenant provisioner (${environment})`,
    subnetJoinerRole: `Zekt platform subnet joiner (${environment})`,
  };
}
