/**
 * The platform stack's configuration, read once and checked at once (every bad key is named).
 * Keys live in the `zekt` namespace (`pulumi config set zekt:<key> …`); secrets are set with
 * `pulumi config set --secret` and read with `requireSecret`, so they stay encrypted in the stack
 * config and state. `docs/deploy-azure.md` documents the same list (a test checks it).
 */
import type * as pulumi from '@pulumi/pulumi';
import { environmentPattern } from './platform-names.ts';

export interface ConfigKey {
  readonly key: string;
  readonly description: string;
  readonly required: boolean;
  readonly secret: boolean;
  /** Example value for the docs; secrets never have one. */
  readonly example?: string;
}

export const platformConfigKeys: readonly ConfigKey[] = [
  { key: 'location', description: 'Azure region of the platform and of every tenant compartment.', required: true, secret: false, example: 'westeurope' },
  { key: 'environment', description: 'Short environment name (2–8 lowercase letters/digits) in every resource name; defaults to the stack name.', required: false, secret: false, example: 'prod' },
  { key: 'tenantSubscriptionId', description: 'Subscription tenant compartments are created in; defaults to the platform\'s own. A separate one keeps the provisioning worker\'s rights away from the platform\'s resources.', required: false, secret: false, example: '00000000-0000-0000-0000-000000000000' },
  { key: 'publicBaseUrl', description: 'Public https base URL of the platform (custom domain); defaults to the ingress app\'s `*.azurewebsites.net` URL.', required: false, secret: false, example: 'https://zekt.example.com' },
  { key: 'githubAppId', description: 'Numeric id of the GitHub App.', required: true, secret: false, example: '123456' },
  { key: 'githubClientId', description: 'OAuth client id of the GitHub App.', required: true, secret: false, example: 'Iv23liExample' },
  { key: 'githubAppPrivateKey', description: 'The GitHub App private key (PEM).', required: true, secret: true },
  { key: 'githubWebhookSecret', description: 'Current webhook secret of the GitHub App.', required: true, secret: true },
  { key: 'githubWebhookSecretPrevious', description: 'Previous webhook secret, accepted during a rotation.', required: false, secret: true },
  { key: 'githubClientSecret', description: 'OAuth client secret of the GitHub App.', required: true, secret: true },
  { key: 'sessionKey', description: 'Key that signs session cookies (at least 32 random bytes, base64).', required: true, secret: true },
  { key: 'workerImage', description: 'Image of the provisioning worker (built from `automation/Dockerfile`), by digest or tag.', required: true, secret: false, example: 'zektregistry.azurecr.io/zekt-provisioner:1.0.0' },
  { key: 'platformPackageDir', description: 'Folder of the platform app package, built by `npm run build` with its production dependencies installed (default `dist/packages/platform-app`).', required: false, secret: false, example: 'dist/packages/platform-app' },
  { key: 'workerRegistryServer', description: 'Registry the worker image is pulled from with the worker identity (grant it AcrPull there).', required: false, secret: false, example: 'zektregistry.azurecr.io' },
  { key: 'allowedIpRanges', description: 'JSON list of public IPv4 ranges admitted by the platform vault firewall (break-glass access).', required: false, secret: false, example: '["203.0.113.0/28"]' },
  { key: 'webhookPayloadRetentionDays', description: 'Days raw webhook payloads are kept (default 30).', required: false, secret: false, example: '30' },
  { key: 'logRetentionDays', description: 'Days logs and telemetry are kept (default 30).', required: false, secret: false, example: '30' },
  { key: 'storageSku', description: 'SKU of the control-plane storage account (default `Standard_LRS`; `Standard_ZRS` where available).', required: false, secret: false, example: 'Standard_ZRS' },
  { key: 'provisioningMaxExecutions', description: 'Most provisioning job executions running at once (default 5).', required: false, secret: false, example: '5' },
];

export interface PlatformConfig {
  readonly environment: string;
  readonly location: string;
  readonly tenantSubscriptionId?: string;
  readonly publicBaseUrl?: string;
  readonly githubAppId: string;
  readonly githubClientId: string;
  readonly githubAppPrivateKey: pulumi.Output<string>;
  readonly githubWebhookSecret: pulumi.Output<string>;
  readonly githubWebhookSecretPrevious?: pulumi.Output<string>;
  readonly githubClientSecret: pulumi.Output<string>;
  readonly sessionKey: pulumi.Output<string>;
  readonly workerImage: string;
  readonly workerRegistryServer?: string;
  readonly platformPackageDir: string;
  readonly allowedIpRanges: readonly string[];
  readonly webhookPayloadRetentionDays: number;
  readonly logRetentionDays: number;
  readonly storageSku: string;
  readonly provisioningMaxExecutions: number;
}

/** Thrown when configuration is missing or invalid; lists every problem, naming its key. */
export class PlatformConfigError extends Error {
  override name = 'PlatformConfigError';
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid platform configuration:\n  - ${problems.join('\n  - ')}`, options);
  }
}

/** Reads the `zekt` config of the current stack; `stack` is the default environment name. */
export function readPlatformConfig(config: pulumi.Config, stack: string): PlatformConfig {
  const problems: string[] = [];
  const text = (key: string, check?: { pattern: RegExp; hint: string }): string | undefined => {
    const value = config.get(key);
    const spec = platformConfigKeys.find((k) => k.key === key);
    if (value === undefined || value === '') {
      if (spec?.required) problems.push(`zekt:${key} is required: ${spec.description}`);
      return undefined;
    }
    if (check && !check.pattern.test(value)) problems.push(`zekt:${key} ${check.hint}, got ${JSON.stringify(value)}`);
    return value;
  };
  const secret = (key: string, required: boolean): pulumi.Output<string> | undefined => {
    if (config.getSecret(key) === undefined) {
      if (required) problems.push(`zekt:${key} is required (set it with \`pulumi config set --secret zekt:${key}\`)`);
      return undefined;
    }
    return config.requireSecret(key);
  };
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const value = text(key, { pattern: /^\d+$/, hint: 'must be a whole number' });
    const n = value === undefined ? fallback : Number(value);
    if (n < min || n > max) problems.push(`zekt:${key} must be from ${min} to ${max}, got ${n}`);
    return n;
  };

  const environment = text('environment', { pattern: environmentPattern, hint: 'must be 2-8 lowercase letters and digits, starting with a letter' })
    ?? stack.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8);
  if (!environmentPattern.test(environment)) problems.push(`zekt:environment is needed: the stack name "${stack}" does not make a valid one`);
  const location = text('location', { pattern: /^[a-z][a-z0-9]{2,39}$/, hint: 'must be an Azure region name such as westeurope' });
  const tenantSubscriptionId = text('tenantSubscriptionId', { pattern: /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i, hint: 'must be a subscription id (GUID)' });
  const publicBaseUrl = text('publicBaseUrl', { pattern: /^https:\/\/[^/\s]+$/, hint: 'must be an https origin without a trailing slash' });
  const githubAppId = text('githubAppId', { pattern: /^\d+$/, hint: 'must be the numeric App id' });
  const githubClientId = text('githubClientId', { pattern: /^[A-Za-z0-9._-]+$/, hint: 'must be the OAuth client id' });
  const workerImage = text('workerImage', { pattern: /^[a-z0-9.-]+(:\d+)?\/[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/, hint: 'must be a full image reference (registry/name:tag or @sha256:digest)' });
  const workerRegistryServer = text('workerRegistryServer', { pattern: /^[a-z0-9.-]+(:\d+)?$/, hint: 'must be a registry host name' });
  const storageSku = text('storageSku', { pattern: /^(Standard_LRS|Standard_ZRS|Standard_GRS|Standard_GZRS|Standard_RAGRS|Standard_RAGZRS)$/, hint: 'must be a StorageV2 SKU such as Standard_LRS' }) ?? 'Standard_LRS';
  let allowedIpRanges: string[] = [];
  try {
    allowedIpRanges = config.getObject<string[]>('allowedIpRanges') ?? [];
    for (const range of allowedIpRanges) {
      if (typeof range !== 'string' || !/^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/.test(range)) problems.push(`zekt:allowedIpRanges holds ${JSON.stringify(range)}, not an IPv4 range`);
    }
  } catch (err) {
    problems.push(`zekt:allowedIpRanges must be a JSON list of IPv4 ranges (${(err as Error).message})`);
  }
  const values = {
    webhookPayloadRetentionDays: integer('webhookPayloadRetentionDays', 30, 1, 365),
    logRetentionDays: integer('logRetentionDays', 30, 30, 730),
    provisioningMaxExecutions: integer('provisioningMaxExecutions', 5, 1, 100),
    githubAppPrivateKey: secret('githubAppPrivateKey', true),
    githubWebhookSecret: secret('githubWebhookSecret', true),
    githubWebhookSecretPrevious: secret('githubWebhookSecretPrevious', false),
    githubClientSecret: secret('githubClientSecret', true),
    sessionKey: secret('sessionKey', true),
  };
  if (problems.length > 0) throw new PlatformConfigError(problems);
  return {
    environment,
    location: location as string,
    ...(tenantSubscriptionId ? { tenantSubscriptionId } : {}),
    ...(publicBaseUrl ? { publicBaseUrl } : {}),
    githubAppId: githubAppId as string,
    githubClientId: githubClientId as string,
    githubAppPrivateKey: values.githubAppPrivateKey as pulumi.Output<string>,
    githubWebhookSecret: values.githubWebhookSecret as pulumi.Output<string>,
    ...(values.githubWebhookSecretPrevious ? { githubWebhookSecretPrevious: values.githubWebhookSecretPrevious } : {}),
    githubClientSecret: values.githubClientSecret as pulumi.Output<string>,
    sessionKey: values.sessionKey as pulumi.Output<string>,
    workerImage: workerImage as string,
    ...(workerRegistryServer ? { workerRegistryServer } : {}),
    platformPackageDir: text('platformPackageDir') ?? 'dist/packages/platform-app',
    allowedIpRanges,
    webhookPayloadRetentionDays: values.webhookPayloadRetentionDays,
    logRetentionDays: values.logRetentionDays,
    storageSku,
    provisioningMaxExecutions: values.provisioningMaxExecutions,
  };
}
