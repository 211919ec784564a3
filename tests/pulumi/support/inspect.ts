/**
 * Small readers over recorded mock resources, shared by the tenant and platform tests.
 */
import { isTaggable } from '../../../policy/resource-types.ts';
import { isSecret, plain, type Inputs, type RecordedResource } from './azure-mocks.ts';

/** The (plain) value at a dotted path, e.g. `siteConfig.minTlsVersion`. */
export function at(inputs: Inputs, path: string): unknown {
  let value: unknown = plain(inputs);
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function ofType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === `azure-native:${type}`);
}

/** App settings (or container env vars) as a name → value map; values stay wrapped if secret. */
export function nameValues(list: unknown): Map<string, unknown> {
  const entries = (isSecret(list) ? list.value : list) as { name?: unknown; value?: unknown }[] | undefined;
  return new Map((entries ?? []).map((e) => [String(plain(e.name)), e.value]));
}

/** Each `path = expected` a resource breaks, as `<urn>: path is <actual>, expected <expected>`. */
export function violations(resources: readonly RecordedResource[], expected: readonly (readonly [string, unknown])[]): string[] {
  const found: string[] = [];
  for (const resource of resources) {
    for (const [path, want] of expected) {
      const actual = at(resource.inputs, path);
      if (JSON.stringify(actual) !== JSON.stringify(want)) {
        found.push(`${resource.urn}: ${path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(want)}`);
      }
    }
  }
  return found;
}

/** Azure resources (not components, not random values) that can carry tags. */
export function taggable(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => isTaggable(r.type));
}

/**
 * Keys whose string value would be a credential. Names (`secretName`), ids and booleans
 * (`allowSharedKeyAccess`) do not match: the key must end in the credential word.
 */
const secretKey = /(secret|password|passwd|privatekey|connectionstring|accountkey|sharedkey|sastoken|token|passphrase)$/i;
/** App setting / environment variable names whose value would be a credential. */
const secretSettingName = /(secret|password|private_?key|connection_?string|account_?key|shared_?key|token|passphrase)$|^AzureWebJobsStorage$/i;
/**
 * Not a credential: says where telemetry goes; with local auth off an Entra token is also needed.
 * https://learn.microsoft.com/azure/azure-monitor/app/connection-strings#is-the-connection-string-a-secret
 */
const notSecretSettings = new Set(['APPLICATIONINSIGHTS_CONNECTION_STRING']);

/**
 * Every place a resource input carries a secret in the clear: a known secret value (or a string
 * containing one) outside a Pulumi secret, a credential-named key with a plain string, or a
 * name/value pair (app setting, environment variable) with a credential-like name and plain value.
 */
export function plaintextSecrets(resources: readonly RecordedResource[], secretValues: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (urn: string, path: string, value: unknown): void => {
    if (isSecret(value)) return;
    if (typeof value === 'string') {
      for (const secret of secretValues) {
        if (secret.length >= 8 && value.includes(secret)) found.push(`${urn}: ${path} holds a secret value in plain text`);
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(urn, `${path}[${i}]`, item));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (typeof record.name === 'string' && 'value' in record && !notSecretSettings.has(record.name)) {
      if (secretSettingName.test(record.name) && typeof record.value === 'string' && record.value !== '') {
        found.push(`${urn}: ${path} (${record.name}) is a credential-like setting with a plain value`);
      }
    }
    for (const [key, item] of Object.entries(record)) {
      if (secretKey.test(key) && typeof item === 'string' && item !== '') {
        found.push(`${urn}: ${path}.${key} is a credential-like key with a plain value`);
      }
      walk(urn, path ? `${path}.${key}` : key, item);
    }
  };
  for (const resource of resources) walk(resource.urn, '', resource.inputs);
  return found;
}
