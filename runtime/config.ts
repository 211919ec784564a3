/**
 * The one place that reads settings. Every setting Zekt understands is declared here once, with
 * its description; the README table and `.env.example` list the same names (a test checks it).
 * `env` is a parameter so tests pass their own; no other module reads `process.env`.
 */
import { z } from 'zod';

/** One documented environment variable. */
export interface SettingDefinition {
  readonly name: string;
  readonly description: string;
  /** Example value for `.env.example`; secrets never have one. */
  readonly example?: string;
  readonly secret?: boolean;
}

const url = z.url({ protocol: /^https?$/ });
const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Every setting, in README order. */
export const settings: readonly SettingDefinition[] = [
  { name: 'ZEKT_LOG_LEVEL', description: 'pino log level (`info` by default).', example: 'info' },
  { name: 'ZEKT_HOST', description: 'Address the local host binds to (`127.0.0.1` by default).', example: '127.0.0.1' },
  { name: 'ZEKT_PORT', description: 'Port of the local platform host (`7071` by default; `0` picks a free port).', example: '7071' },
  {
    name: 'ZEKT_PUBLIC_URL',
    description: 'Base URL the platform is reached at from outside (OAuth callback, setup URL). Defaults to the local host URL.',
    example: 'https://zekt.example.com',
  },
  {
    name: 'ZEKT_STORAGE_CONNECTION_STRING',
    description: 'Storage connection string (Azurite locally). Set this or `ZEKT_STORAGE_ACCOUNT_NAME`.',
    secret: true,
  },
  {
    name: 'ZEKT_STORAGE_ACCOUNT_NAME',
    description: 'Azure storage account reached with the managed identity (identity-based endpoints, no key).',
    example: 'zektplatform',
  },
  {
    name: 'ZEKT_STORAGE_ENDPOINT_SUFFIX',
    description: 'Endpoint suffix for identity-based storage (`core.windows.net` by default).',
    example: 'core.windows.net',
  },
  {
    name: 'AZURE_CLIENT_ID',
    description: 'Client id of the user-assigned managed identity used for storage and Key Vault on Azure.',
    example: '00000000-0000-0000-0000-000000000000',
  },
  { name: 'GITHUB_API_URL', description: 'GitHub REST API base URL (`https://api.github.com`).', example: 'https://api.github.com' },
  { name: 'GITHUB_WEB_URL', description: 'GitHub web base URL for OAuth (`https://github.com`).', example: 'https://github.com' },
  {
    name: 'GITHUB_OIDC_ISSUER',
    description: 'GitHub Actions OIDC issuer (`https://token.actions.githubusercontent.com`).',
    example: 'https://token.actions.githubusercontent.com',
  },
];

const schema = z
  .object({
    ZEKT_LOG_LEVEL: logLevel.default('info'),
    ZEKT_HOST: z.string().min(1).default('127.0.0.1'),
    ZEKT_PORT: port.default(7071),
    ZEKT_PUBLIC_URL: url.optional(),
    ZEKT_STORAGE_CONNECTION_STRING: z.string().includes('AccountName=').optional(),
    ZEKT_STORAGE_ACCOUNT_NAME: z
      .string()
      .regex(/^[a-z0-9]{3,24}$/, 'must be 3-24 lowercase letters and digits')
      .optional(),
    ZEKT_STORAGE_ENDPOINT_SUFFIX: z.string().min(1).default('core.windows.net'),
    AZURE_CLIENT_ID: z.uuid().optional(),
    GITHUB_API_URL: url.default('https://api.github.com'),
    GITHUB_WEB_URL: url.default('https://github.com'),
    GITHUB_OIDC_ISSUER: url.default('https://token.actions.githubusercontent.com'),
  })
  .refine((env) => env.ZEKT_STORAGE_CONNECTION_STRING ?? env.ZEKT_STORAGE_ACCOUNT_NAME, {
    message: 'set ZEKT_STORAGE_CONNECTION_STRING (Azurite) or ZEKT_STORAGE_ACCOUNT_NAME (Azure)',
    path: ['ZEKT_STORAGE_CONNECTION_STRING'],
  });

/** Where storage lives: a connection string (Azurite, keys) or an account reached by identity. */
export type StorageConfig =
  | { readonly kind: 'connection-string'; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly accountName: string;
      readonly endpointSuffix: string;
      readonly managedIdentityClientId?: string;
    };

export interface ZektConfig {
  readonly logLevel: z.infer<typeof logLevel>;
  readonly host: string;
  readonly port: number;
  readonly publicUrl?: string;
  readonly storage: StorageConfig;
  readonly github: { readonly apiUrl: string; readonly webUrl: string; readonly oidcIssuer: string };
}

/** Thrown when settings are missing or invalid; its message names every bad setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, options);
  }
}

/** Reads and checks settings once. Empty strings count as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ZektConfig {
  const known = Object.fromEntries(
    settings.map((s) => [s.name, env[s.name] === '' ? undefined : env[s.name]]),
  );
  const parsed = schema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`);
    throw new ConfigError(problems, { cause: parsed.error });
  }
  const e = parsed.data;
  const storage: StorageConfig = e.ZEKT_STORAGE_CONNECTION_STRING
    ? { kind: 'connection-string', connectionString: e.ZEKT_STORAGE_CONNECTION_STRING }
    : {
        kind: 'identity',
        accountName: e.ZEKT_STORAGE_ACCOUNT_NAME as string,
        endpointSuffix: e.ZEKT_STORAGE_ENDPOINT_SUFFIX,
        ...(e.AZURE_CLIENT_ID ? { managedIdentityClientId: e.AZURE_CLIENT_ID } : {}),
      };
  return {
    logLevel: e.ZEKT_LOG_LEVEL,
    host: e.ZEKT_HOST,
    port: e.ZEKT_PORT,
    ...(e.ZEKT_PUBLIC_URL ? { publicUrl: e.ZEKT_PUBLIC_URL.replace(/\/$/, '') } : {}),
    storage,
    github: {
      apiUrl: e.GITHUB_API_URL.replace(/\/$/, ''),
      webUrl: e.GITHUB_WEB_URL.replace(/\/$/, ''),
      oidcIssuer: e.GITHUB_OIDC_ISSUER.replace(/\/$/, ''),
    },
  };
}
