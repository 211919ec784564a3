/**
 * The one place that reads settings. Every setting Zekt understands is declared here once, with
 * its description; the README table and `.env.example` list the same names (a test checks it).
 * `env` is a parameter so tests pass their own; no other module reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseEnv } from 'node:util';
import path from 'node:path';
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
  // Ingress (shared platform): GitHub webhooks in, forwards to tenants out.
  {
    name: 'ZEKT_PLATFORM_VAULT_URL',
    description:
      'Key Vault holding the platform secrets (GitHub webhook secrets, App key, OAuth secret, tenant forward secrets). Locally: the local vault.',
    example: 'https://kv-zekt-platform.vault.azure.net',
  },
  {
    name: 'ZEKT_WEBHOOK_MAX_BODY_BYTES',
    description: 'Largest GitHub webhook body accepted; larger gets 413 (25 MB by default, GitHub\'s own cap).',
    example: '26214400',
  },
  {
    name: 'ZEKT_INGRESS_INLINE_BODY_BYTES',
    description: 'Bodies up to this size are kept inside the delivery record; larger ones go to a blob (48 KiB by default).',
    example: '49152',
  },
  {
    name: 'ZEKT_FORWARD_RETRY_SCHEDULE',
    description: 'Seconds between forward attempts to a tenant, comma-separated; its length is the retry budget.',
    example: '10,30,120,600,1800,3600',
  },
  {
    name: 'ZEKT_FORWARD_TIMEOUT_MS',
    description: 'How long one forward to a tenant may take before it counts as a timeout (10 s by default).',
    example: '10000',
  },
  {
    name: 'ZEKT_DELIVERY_RETENTION_DAYS',
    description: 'Days a delivery record (and its stored body) is kept before the purge timer removes it (30 by default).',
    example: '30',
  },
  {
    name: 'ZEKT_REDELIVERY_MAX_PER_RUN',
    description: 'Most failed GitHub deliveries the redelivery timer asks GitHub to redeliver per run (25 by default).',
    example: '25',
  },
  // Control plane: the tenant lifecycle on the Pulumi Automation API.
  {
    name: 'ZEKT_TENANT_TARGET',
    description: 'Where tenant compartments are provisioned: `local` (this machine, the default) or `azure`.',
    example: 'local',
  },
  {
    name: 'ZEKT_STATE_DIR',
    description: 'Folder for local state: Azurite data, the resource manager, Pulumi state and work directories (`.zekt` by default).',
    example: '.zekt',
  },
  {
    name: 'ZEKT_CACHE_DIR',
    description: 'Where the Pulumi engine is cached, outside the clone (`$XDG_CACHE_HOME/zekt`, else `~/.cache/zekt`).',
    example: '~/.cache/zekt',
  },
  {
    name: 'ZEKT_PULUMI_BACKEND_URL',
    description:
      'Pulumi state backend of the tenant stacks (`file://<state dir>/pulumi` locally; on Azure `azblob://pulumi-state` in the platform storage account).',
    example: 'azblob://pulumi-state',
  },
  {
    name: 'ZEKT_PULUMI_SECRETS_PROVIDER',
    description:
      'Pulumi secrets provider of the tenant stacks: `passphrase` (locally; the passphrase is kept in the local platform vault) or `azurekeyvault://<vault>.vault.azure.net/keys/<key>`.',
    example: 'azurekeyvault://kv-zekt-platform.vault.azure.net/keys/pulumi-secrets',
  },
  {
    name: 'ZEKT_PROVISIONING_PARALLELISM',
    description: 'Most tenant stack operations one worker runs at once (2 by default).',
    example: '2',
  },
  {
    name: 'ZEKT_PROVISIONING_TIMEOUT_SECONDS',
    description: 'Longest one `up`, `refresh` or `destroy` may run before it is cancelled (900 s by default).',
    example: '900',
  },
  {
    name: 'ZEKT_PROVISIONING_RETRY_SCHEDULE',
    description: 'Seconds before each retry of a failed provisioning job, comma-separated; its length is the retry budget.',
    example: '15,60,300',
  },
  {
    name: 'ZEKT_RECONCILE_PARALLELISM',
    description: 'Most tenants one reconcile run (the timer or `zekt tenants reconcile`) refreshes and updates at once (2 by default).',
    example: '2',
  },
  {
    name: 'ZEKT_RECONCILE_SCHEDULE',
    description: 'When the reconcile timer runs refresh + up over the ready tenants, NCRONTAB with seconds (`0 17 */6 * * *`: every six hours by default).',
    example: '0 17 */6 * * *',
  },
  {
    name: 'ZEKT_TENANT_LEASE_SECONDS',
    description: 'How long a worker holds a tenant without renewing (30 s by default); a holder silent for longer counts as dead.',
    example: '30',
  },
  {
    name: 'ZEKT_RESOURCE_MANAGER_PORT',
    description: 'Port of the local resource manager (local target; `7072` by default, kept stable so stack state keeps reaching it).',
    example: '7072',
  },
  {
    name: 'ZEKT_TENANT_LOCATION',
    description: 'Azure target: the region tenant compartments are created in (e.g. `westeurope`).',
    example: 'westeurope',
  },
  {
    name: 'ZEKT_CONTROL_PLANE_PRINCIPAL_ID',
    description: "Azure target: object id of the control plane's managed identity (manages the tenants' vault secrets).",
    example: '00000000-0000-0000-0000-000000000000',
  },
  {
    name: 'ZEKT_INGRESS_PRINCIPAL_ID',
    description: "Azure target: object id of the shared ingress's managed identity (reads each tenant's forward-signing secret).",
    example: '00000000-0000-0000-0000-000000000000',
  },
  {
    name: 'ZEKT_PLATFORM_SUBNET_IDS',
    description: "Azure target: platform subnet ids admitted by every tenant vault's firewall, comma-separated.",
    example: '/subscriptions/…/subnets/worker',
  },
  {
    name: 'ZEKT_TENANT_PACKAGE_DIR',
    description: "Azure target: folder of the tenant app package (built by `npm run build`, dependencies installed) each tenant's app is deployed from; the worker image sets it.",
    example: '/app/tenant-app',
  },
  // Tenant runtime: set by the control plane on each tenant's Functions app (local: its process).
  { name: 'ZEKT_TENANT_ID', description: 'The tenant a tenant runtime serves.', example: 'acme' },
  {
    name: 'ZEKT_TENANT_VAULT_URL',
    description: "The tenant's own Key Vault (locally: its vault on the resource manager).",
    example: 'https://kvacme-0123456789ab.vault.azure.net',
  },
  {
    name: 'ZEKT_LOCAL_IDENTITY_CLIENT_ID',
    description: "Local target only: client id of the tenant's local identity, which the local vault accepts.",
    example: '00000000-0000-0000-0000-000000000000',
  },
  {
    name: 'ZEKT_LOCAL_IDENTITY_SECRET',
    description: "Local target only: the local identity's secret, used to sign its short-lived vault tokens.",
    secret: true,
  },  {
    name: 'ZEKT_BROKER_URL',
    description: 'Tenant runtime: base URL of the platform whose token broker (`POST /api/tokens`) mints its GitHub tokens.',
    example: 'https://zekt.example.com',
  },
  {
    name: 'ZEKT_DISPATCH_RETRY_SCHEDULE',
    description: 'Tenant runtime: seconds before each retry of a `repository_dispatch` after a 5xx or timeout, comma-separated; its length is the retry budget.',
    example: '10,60,300,1800,7200',
  },
  {
    name: 'ZEKT_DISPATCH_TIMEOUT_MS',
    description: 'Tenant runtime: how long one `repository_dispatch` request may take before it counts as a timeout (10 s by default).',
    example: '10000',
  },
  {
    name: 'ZEKT_DISPATCH_BUDGET_PER_MINUTE',
    description: "Tenant runtime: dispatches per installation in any minute, across all instances (80 by default, GitHub's secondary limit; lower only).",
    example: '80',
  },
  {
    name: 'ZEKT_DISPATCH_BUDGET_PER_HOUR',
    description: "Tenant runtime: dispatches per installation in any hour, across all instances (500 by default, GitHub's secondary limit; lower only).",
    example: '500',
  },
  {
    name: 'ZEKT_DISPATCH_BUDGET_MARGIN_MS',
    description: "Tenant runtime: how much longer than a minute (and an hour) the rate budget counts its windows, because a request reaches GitHub a little after its slot is taken and two requests' delays differ (1000 by default).",
    example: '1000',
  },
  {
    name: 'ZEKT_DISPATCH_BUDGET_TIME_SCALE',
    description: "Tenant runtime, benchmarks only: the rate budget's minute and hour windows are this many times shorter (1 by default; 10 makes its minute 6 s).",
    example: '1',
  },
  {
    name: 'ZEKT_BENCH_STORAGE_REQUEST_COUNTS',
    description: 'Tenant runtime, benchmarks only: a file where the process writes, every second, how many requests it made to its storage account, by method and resource (unset: nothing is counted; `npm run bench:dispatch` sets it).',
    example: '/tmp/zekt-tenant-requests.json',
  },
  {
    name: 'ZEKT_DELIVERY_CONFIRM_SECONDS',
    description: 'Tenant runtime: how long a dispatched delivery may wait for a linked consumer run before it is marked `unconfirmed` (600 s by default).',
    example: '600',
  },
  {
    name: 'WEBSITE_HOSTNAME',
    description: "Set by Azure Functions itself: the app's host name. A tenant runtime on Azure without `ZEKT_TENANT_BASE_URL` is reached at `https://<WEBSITE_HOSTNAME>`.",
    example: 'func-acme-0123456789ab.azurewebsites.net',
  },
  {
    name: 'ZEKT_TENANT_BASE_URL',
    description:
      "Tenant runtime: its own public base URL; the references of its messages point at `<base>/api/messages/<id>`.",
    example: 'https://func-acme-0123456789ab.azurewebsites.net',
  },
  {
    name: 'ZEKT_MESSAGE_MAX_BYTES',
    description: 'Tenant runtime: largest message body a provider run may post; larger gets 413 (64 KiB by default, at most 512 KiB).',
    example: '65536',
  },
  {
    name: 'ZEKT_MESSAGE_MAX_DEPTH',
    description: 'Tenant runtime: deepest nesting of arrays and objects a message may have; deeper gets 400 (32 by default).',
    example: '32',
  },
  {
    name: 'ZEKT_MESSAGE_TTL_DAYS',
    description: 'Tenant runtime: days a message is kept before the purge timer removes it; a fetch after that is 410 (7 by default).',
    example: '7',
  },

  // Identity: sign-in, sessions, the token broker.
  { name: 'GITHUB_APP_ID', description: 'The Zekt GitHub App\'s id (App JWTs for the token broker and the redelivery check).', example: '123456' },
  {
    name: 'GITHUB_APP_CLIENT_ID',
    description: 'The GitHub App\'s OAuth client id, for sign-in. Its secret is `github-oauth-client-secret` in the platform vault.',
    example: 'Iv23liExampleClientId',
  },
  { name: 'ZEKT_SESSION_TTL_HOURS', description: 'How long a sign-in session lasts (8 hours by default).', example: '8' },
  { name: 'ZEKT_AUTH_STATE_TTL_MINUTES', description: 'How long an OAuth state stays usable (10 minutes by default, at most 15).', example: '10' },
  {
    name: 'ZEKT_LOGIN_RATE_PER_MINUTE',
    description: 'Sign-ins (`GET /api/auth/login`) one client address may start per minute; more get 429 with `Retry-After` (20 by default).',
    example: '20',
  },
  {
    name: 'ZEKT_BROKER_AUDIENCE',
    description: 'Audience a tenant identity\'s token must name to call the token broker (`api://zekt-broker` by default; on Azure the broker\'s application id URI).',
    example: 'api://zekt-broker',
  },
  {
    name: 'ZEKT_BROKER_CLIENT_ID',
    description: "Client id of the broker's Entra application: the audience v2 tokens name (Azure; set by the platform program).",
    example: '00000000-0000-0000-0000-000000000000',
  },
  {
    name: 'WEBHOOK_PROXY_URL',
    description:
      'Local runs against a real GitHub: the smee.io channel the App delivers webhooks to; `npm start` forwards it to the local webhook route (`zekt app create` sets it as the webhook URL; see docs/real-github.md).',
    example: 'https://smee.io/your-channel',
  },
  // An existing GitHub App for a local run (docs/real-github.md): `npm start` puts these in the local platform vault.
  {
    name: 'GITHUB_APP_PRIVATE_KEY_PATH',
    description: "Local runs against a real GitHub: path of the App's private key file (`.pem`); with the two secrets below, `npm start` puts it in the local platform vault.",
    example: './zekt-app.private-key.pem',
  },
  {
    name: 'GITHUB_WEBHOOK_SECRET',
    description: "Local runs against a real GitHub: the App's webhook secret (`npm start` puts it in the local platform vault; never logged).",
    secret: true,
  },
  {
    name: 'GITHUB_APP_CLIENT_SECRET',
    description: "Local runs against a real GitHub: the App's OAuth client secret, for sign-in (`npm start` puts it in the local platform vault; never logged).",
    secret: true,
  },
  {
    name: 'AZURE_ENTRA_TENANT_ID',
    description: 'Entra ID directory whose managed-identity tokens the broker accepts (Azure only; locally the resource manager vouches for identities).',
    example: '00000000-0000-0000-0000-000000000000',
  },
];

const retrySchedule = z
  .string()
  .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'must be comma-separated seconds, e.g. 10,30,120')
  .transform((v) => v.split(',').map(Number));

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
    ZEKT_PLATFORM_VAULT_URL: url.optional(),
    GITHUB_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric App id').optional(),
    GITHUB_APP_CLIENT_ID: z.string().regex(/^[A-Za-z0-9.]{8,64}$/, 'must be a GitHub App client id').optional(),
    ZEKT_SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(8),
    ZEKT_AUTH_STATE_TTL_MINUTES: z.coerce.number().positive().max(15).default(10),
    ZEKT_LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
    ZEKT_BROKER_AUDIENCE: z.string().min(3).default('api://zekt-broker'),
    ZEKT_BROKER_CLIENT_ID: z.uuid().optional(),
    AZURE_ENTRA_TENANT_ID: z.uuid().optional(),
    ZEKT_WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().positive().default(25 * 1024 * 1024),
    ZEKT_INGRESS_INLINE_BODY_BYTES: z.coerce.number().int().min(0).max(48 * 1024).default(48 * 1024),
    ZEKT_FORWARD_RETRY_SCHEDULE: retrySchedule.default([10, 30, 120, 600, 1800, 3600]),
    ZEKT_FORWARD_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    ZEKT_DELIVERY_RETENTION_DAYS: z.coerce.number().positive().default(30),
    ZEKT_REDELIVERY_MAX_PER_RUN: z.coerce.number().int().min(1).max(100).default(25),
    ZEKT_TENANT_TARGET: z.enum(['local', 'azure']).default('local'),
    ZEKT_STATE_DIR: z.string().min(1).default('.zekt'),
    ZEKT_CACHE_DIR: z.string().min(1).optional(),
    ZEKT_PULUMI_BACKEND_URL: z.string().regex(/^(file|azblob):\/\/.+/, 'must be a file:// or azblob:// URL').optional(),
    ZEKT_PULUMI_SECRETS_PROVIDER: z
      .string()
      .regex(/^(passphrase|azurekeyvault:\/\/.+)$/, 'must be passphrase or azurekeyvault://…')
      .optional(),
    ZEKT_PROVISIONING_PARALLELISM: z.coerce.number().int().min(1).max(64).default(2),
    ZEKT_PROVISIONING_TIMEOUT_SECONDS: z.coerce.number().positive().default(900),
    ZEKT_PROVISIONING_RETRY_SCHEDULE: retrySchedule.default([15, 60, 300]),
    ZEKT_RECONCILE_PARALLELISM: z.coerce.number().int().min(1).max(64).default(2),
    ZEKT_RECONCILE_SCHEDULE: z.string().regex(/^\S+( \S+){5}$/, 'must be NCRONTAB with six fields (seconds first)').default('0 17 */6 * * *'),
    ZEKT_TENANT_LEASE_SECONDS: z.coerce.number().min(1).default(30),
    ZEKT_RESOURCE_MANAGER_PORT: port.default(7072),
    ZEKT_TENANT_LOCATION: z.string().regex(/^[a-z][a-z0-9]{2,39}$/, 'must be an Azure region name such as westeurope').optional(),
    ZEKT_CONTROL_PLANE_PRINCIPAL_ID: z.uuid().optional(),
    ZEKT_INGRESS_PRINCIPAL_ID: z.uuid().optional(),
    ZEKT_PLATFORM_SUBNET_IDS: z
      .string()
      .transform((v) => v.split(',').map((id) => id.trim()).filter(Boolean))
      .optional(),
    ZEKT_TENANT_PACKAGE_DIR: z.string().min(1).optional(),
    ZEKT_TENANT_ID: z.string().regex(/^[a-z][a-z0-9-]{2,31}$/, 'must be a tenant id').optional(),
    ZEKT_TENANT_VAULT_URL: z.url({ protocol: /^https$/ }).optional(),
    ZEKT_LOCAL_IDENTITY_CLIENT_ID: z.uuid().optional(),
    ZEKT_LOCAL_IDENTITY_SECRET: z.string().min(32).optional(),
    ZEKT_BROKER_URL: url.optional(),
    ZEKT_DISPATCH_RETRY_SCHEDULE: retrySchedule.default([10, 60, 300, 1800, 7200]),
    ZEKT_DISPATCH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    ZEKT_DISPATCH_BUDGET_PER_MINUTE: z.coerce.number().int().positive().default(80),
    ZEKT_DISPATCH_BUDGET_PER_HOUR: z.coerce.number().int().positive().default(500),
    ZEKT_DISPATCH_BUDGET_MARGIN_MS: z.coerce.number().int().min(0).default(1000),
    ZEKT_DISPATCH_BUDGET_TIME_SCALE: z.coerce.number().min(1).default(1),
    ZEKT_DELIVERY_CONFIRM_SECONDS: z.coerce.number().positive().default(600),
    ZEKT_BENCH_STORAGE_REQUEST_COUNTS: z.string().min(1).optional(),
    ZEKT_TENANT_BASE_URL: url.optional(),
    WEBSITE_HOSTNAME: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a host name').optional(),
    // Table entities hold at most 1 MiB; a message's ciphertext is split over 32 KiB properties.
    ZEKT_MESSAGE_MAX_BYTES: z.coerce.number().int().min(1024).max(512 * 1024).default(64 * 1024),
    ZEKT_MESSAGE_MAX_DEPTH: z.coerce.number().int().min(1).max(256).default(32),
    ZEKT_MESSAGE_TTL_DAYS: z.coerce.number().positive().max(90).default(7),
    WEBHOOK_PROXY_URL: url.optional(),
    GITHUB_APP_PRIVATE_KEY_PATH: z.string().min(1).optional(),
    GITHUB_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
    GITHUB_APP_CLIENT_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
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
  readonly platformVaultUrl?: string;
  readonly ingress: IngressConfig;
  readonly controlPlane: ControlPlaneConfig;
  readonly tenantRuntime: TenantRuntimeConfig;
  readonly identity: IdentityConfig;
  readonly engine: EngineConfig;
  /** The settings the environment gave (not defaulted): the local runner picks its parts by them. */
  readonly given: ReadonlySet<string>;
}

/** Where the Pulumi engine is and what it runs with (the set-up and the control plane). */
export interface EngineConfig {
  /** Cache root; the engine of one version is at `<cacheDir>/pulumi/v<version>/bin/pulumi`. */
  readonly cacheDir: string;
  /** The PATH the engine runs with (after the dynamic-provider launcher and Node). */
  readonly searchPath: string;
}

export interface IdentityConfig {
  readonly appId?: string;
  readonly appClientId?: string;
  readonly sessionTtlSeconds: number;
  readonly authStateTtlSeconds: number;
  readonly brokerAudience: string;
  /** The broker application's client id (Azure): v2 tokens carry it as `aud`, v1 the audience URI. */
  readonly brokerClientId?: string;
  readonly entraTenantId?: string;
  /** Sign-in states one client address may create per minute. */
  readonly loginRatePerMinute: number;
}

/** The control plane's settings (tenant lifecycle on the Automation API). */
export interface ControlPlaneConfig {
  readonly target: 'local' | 'azure';
  /** Absolute or relative to the working directory, as given. */
  readonly stateDir: string;
  /** `file://…` or `azblob://…`; undefined means the target's default (see `stack-workspace.ts`). */
  readonly backendUrl?: string;
  /** `passphrase` or `azurekeyvault://…`; undefined means the target's default. */
  readonly secretsProvider?: string;
  readonly parallelism: number;
  readonly operationTimeoutSeconds: number;
  /** Seconds to wait before each retry of a failed job; its length is the number of retries. */
  readonly retrySchedule: readonly number[];
  readonly leaseSeconds: number;
  /** Tenants one reconcile run works on at once. */
  readonly reconcileParallelism: number;
  /** NCRONTAB of the reconcile timer. */
  readonly reconcileSchedule: string;
  readonly resourceManagerPort: number;
  /** What the Azure target's program needs (tenant-stack/azure/tenant-compartment.ts). */
  readonly azure?: AzureTargetConfig;
}

export interface AzureTargetConfig {
  readonly location: string;
  readonly controlPlanePrincipalId: string;
  readonly ingressPrincipalId?: string;
  readonly platformSubnetIds: readonly string[];
  /** The tenant app package deployed to each tenant's Functions app. */
  readonly tenantPackageDir?: string;
}

/** What a tenant's own Functions app (local: its process) is told about itself. */
export interface TenantRuntimeConfig {
  readonly tenantId?: string;
  readonly vaultUrl?: string;
  /** Local target only: the identity the local vault accepts. */
  readonly localIdentity?: { readonly clientId: string; readonly secret: string };
  /** The platform whose token broker this tenant runtime asks for GitHub tokens. */
  readonly brokerUrl?: string;
  readonly dispatch: {
    /** Seconds before each retry after a transient failure; its length is the number of retries. */
    readonly retrySchedule: readonly number[];
    readonly timeoutMs: number;
    readonly budgetPerMinute: number;
    readonly budgetPerHour: number;
    /** Added to each of the budget's windows (ms). */
    readonly budgetMarginMs: number;
    /** The budget's windows are this many times shorter (benchmarks). */
    readonly budgetTimeScale: number;
    readonly confirmAfterSeconds: number;
  };
  /** The runtime's own public base URL, when it is not the address it listens on. */
  readonly baseUrl?: string;
  readonly messages: MessageSettings;
  /** Benchmarks only: where the process writes its storage request counts. */
  readonly storageRequestCountsFile?: string;
}

/** Limits of `POST /api/messages` and how long a message is kept. */
export interface MessageSettings {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly ttlSeconds: number;
}

export interface IngressConfig {
  readonly maxBodyBytes: number;
  readonly inlineBodyBytes: number;
  /** Seconds to wait before each retry of a forward; its length is the number of retries. */
  readonly forwardRetrySchedule: readonly number[];
  readonly forwardTimeoutMs: number;
  readonly deliveryRetentionDays: number;
  readonly redeliveryMaxPerRun: number;
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

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The engine's settings alone: `npm run setup` needs them before any other setting exists. Besides
 * `ZEKT_CACHE_DIR` it reads the operating system's `XDG_CACHE_HOME`, `HOME` and `PATH`.
 */
export function loadEngineConfig(env: Environment): EngineConfig {
  const given = (name: string) => (env[name] === '' ? undefined : env[name]);
  const home = given('HOME') ?? os.homedir();
  const cacheDir = given('ZEKT_CACHE_DIR')?.replace(/^~(?=\/|$)/, home) ?? path.join(given('XDG_CACHE_HOME') ?? path.join(home, '.cache'), 'zekt');
  return { cacheDir, searchPath: env.PATH ?? '' };
}

/**
 * The environment with the settings of a `.env` file beneath it (a variable already set wins),
 * for runs on a laptop. `.env` is git-ignored; its values are never logged. No file, no change.
 * Parsed with Node's own `util.parseEnv`; `process.env` itself is left alone.
 */
export function loadDotEnv(env: Environment, file = '.env'): Environment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new ConfigError([`${file}: ${(err as Error).message}`], { cause: err });
  }
  return { ...parseEnv(text), ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) };
}

/**
 * What a local runner (`npm start`, the operator CLI) needs before it knows where storage is: the
 * state folder, and whether a setting already names storage (otherwise it starts or finds Azurite).
 */
export function loadLocalSettings(env: Environment): LocalSettings {
  const given = (name: string) => (env[name] === '' ? undefined : env[name]);
  const urlOf = (name: string, fallback?: string): string | undefined => {
    const value = given(name) ?? fallback;
    if (value !== undefined && !url.safeParse(value).success) throw new ConfigError([`${name}: must be an http(s) URL`]);
    return value?.replace(/\/$/, '');
  };
  const host = given('ZEKT_HOST') ?? '127.0.0.1';
  const webhookProxyUrl = urlOf('WEBHOOK_PROXY_URL');
  const githubApp = existingGitHubApp(given);
  return {
    stateDir: given('ZEKT_STATE_DIR') ?? '.zekt',
    storageGiven: Boolean(given('ZEKT_STORAGE_CONNECTION_STRING') ?? given('ZEKT_STORAGE_ACCOUNT_NAME')),
    host,
    publicUrl: urlOf('ZEKT_PUBLIC_URL', `http://${host}:${given('ZEKT_PORT') ?? '7071'}`) as string,
    github: { webUrl: urlOf('GITHUB_WEB_URL', 'https://github.com') as string, apiUrl: urlOf('GITHUB_API_URL', 'https://api.github.com') as string },
    ...(webhookProxyUrl ? { webhookProxyUrl } : {}),
    ...(githubApp ? { githubApp } : {}),
  };
}

const existingAppSettings = ['GITHUB_APP_ID', 'GITHUB_APP_CLIENT_ID', 'GITHUB_APP_PRIVATE_KEY_PATH', 'GITHUB_WEBHOOK_SECRET', 'GITHUB_APP_CLIENT_SECRET'] as const;

/**
 * An existing App's credentials for a local run: all five settings or none of its three secret
 * ones (the id and client id alone also name an App registered by `zekt app create`, whose
 * secrets are already in the local vault). Problems name the settings, never their values.
 */
function existingGitHubApp(given: (name: string) => string | undefined): ExistingGitHubApp | undefined {
  const secretOnes = existingAppSettings.slice(2);
  if (!secretOnes.some((name) => given(name) !== undefined)) return undefined;
  const problems = existingAppSettings.filter((name) => given(name) === undefined).map((name) => `${name}: required with the App's other credentials (docs/real-github.md)`);
  if (given('GITHUB_APP_ID') !== undefined && !/^\d+$/.test(given('GITHUB_APP_ID') as string)) problems.push('GITHUB_APP_ID: must be the numeric App id');
  for (const name of ['GITHUB_WEBHOOK_SECRET', 'GITHUB_APP_CLIENT_SECRET']) {
    if ((given(name)?.length ?? 8) < 8) problems.push(`${name}: must be at least 8 characters`);
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    appId: given('GITHUB_APP_ID') as string,
    clientId: given('GITHUB_APP_CLIENT_ID') as string,
    privateKeyPath: given('GITHUB_APP_PRIVATE_KEY_PATH') as string,
    webhookSecret: given('GITHUB_WEBHOOK_SECRET') as string,
    clientSecret: given('GITHUB_APP_CLIENT_SECRET') as string,
  };
}

/** An existing GitHub App given through the environment or `.env` (local runs only). */
export interface ExistingGitHubApp {
  readonly appId: string;
  readonly clientId: string;
  /** As given: absolute, or relative to the working directory. */
  readonly privateKeyPath: string;
  readonly webhookSecret: string;
  readonly clientSecret: string;
}

/** What the local runners read before the full configuration (see `loadLocalSettings`). */
export interface LocalSettings {
  readonly stateDir: string;
  readonly storageGiven: boolean;
  readonly host: string;
  /** Where GitHub sends browsers back to (the local platform by default). */
  readonly publicUrl: string;
  readonly github: { readonly webUrl: string; readonly apiUrl: string };
  /** A webhook proxy channel (smee.io) GitHub delivers to, forwarded to the local platform. */
  readonly webhookProxyUrl?: string;
  /** An existing App whose secrets the environment gives; its GitHub is then used, not the double. */
  readonly githubApp?: ExistingGitHubApp;
}

/**
 * Reads and checks settings once. Empty strings count as unset. `overrides` win over `env`: what
 * a runner fills in itself (the local platform's Azurite connection string, its chosen port).
 */
export function loadConfig(env: Environment, overrides: Environment = {}): ZektConfig {
  const merged: Environment = { ...env, ...overrides };
  const known = Object.fromEntries(
    settings.map((s) => [s.name, merged[s.name] === '' ? undefined : merged[s.name]]),
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
    given: new Set(Object.keys(known).filter((name) => known[name] !== undefined)),
    engine: loadEngineConfig(merged),
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
    ...(e.ZEKT_PLATFORM_VAULT_URL ? { platformVaultUrl: e.ZEKT_PLATFORM_VAULT_URL.replace(/\/$/, '') } : {}),
    identity: {
      ...(e.GITHUB_APP_ID ? { appId: e.GITHUB_APP_ID } : {}),
      ...(e.GITHUB_APP_CLIENT_ID ? { appClientId: e.GITHUB_APP_CLIENT_ID } : {}),
      sessionTtlSeconds: Math.round(e.ZEKT_SESSION_TTL_HOURS * 3600),
      authStateTtlSeconds: Math.round(e.ZEKT_AUTH_STATE_TTL_MINUTES * 60),
      brokerAudience: e.ZEKT_BROKER_AUDIENCE,
      ...(e.ZEKT_BROKER_CLIENT_ID ? { brokerClientId: e.ZEKT_BROKER_CLIENT_ID } : {}),
      loginRatePerMinute: e.ZEKT_LOGIN_RATE_PER_MINUTE,
      ...(e.AZURE_ENTRA_TENANT_ID ? { entraTenantId: e.AZURE_ENTRA_TENANT_ID } : {}),
    },
    ingress: {
      maxBodyBytes: e.ZEKT_WEBHOOK_MAX_BODY_BYTES,
      inlineBodyBytes: e.ZEKT_INGRESS_INLINE_BODY_BYTES,
      forwardRetrySchedule: e.ZEKT_FORWARD_RETRY_SCHEDULE,
      forwardTimeoutMs: e.ZEKT_FORWARD_TIMEOUT_MS,
      deliveryRetentionDays: e.ZEKT_DELIVERY_RETENTION_DAYS,
      redeliveryMaxPerRun: e.ZEKT_REDELIVERY_MAX_PER_RUN,
    },
    controlPlane: {
      target: e.ZEKT_TENANT_TARGET,
      stateDir: e.ZEKT_STATE_DIR,
      ...(e.ZEKT_PULUMI_BACKEND_URL ? { backendUrl: e.ZEKT_PULUMI_BACKEND_URL } : {}),
      ...(e.ZEKT_PULUMI_SECRETS_PROVIDER ? { secretsProvider: e.ZEKT_PULUMI_SECRETS_PROVIDER } : {}),
      parallelism: e.ZEKT_PROVISIONING_PARALLELISM,
      operationTimeoutSeconds: e.ZEKT_PROVISIONING_TIMEOUT_SECONDS,
      retrySchedule: e.ZEKT_PROVISIONING_RETRY_SCHEDULE,
      leaseSeconds: e.ZEKT_TENANT_LEASE_SECONDS,
      reconcileParallelism: e.ZEKT_RECONCILE_PARALLELISM,
      reconcileSchedule: e.ZEKT_RECONCILE_SCHEDULE,
      resourceManagerPort: e.ZEKT_RESOURCE_MANAGER_PORT,
      ...(e.ZEKT_TENANT_LOCATION && e.ZEKT_CONTROL_PLANE_PRINCIPAL_ID
        ? {
            azure: {
              location: e.ZEKT_TENANT_LOCATION,
              controlPlanePrincipalId: e.ZEKT_CONTROL_PLANE_PRINCIPAL_ID,
              ...(e.ZEKT_INGRESS_PRINCIPAL_ID ? { ingressPrincipalId: e.ZEKT_INGRESS_PRINCIPAL_ID } : {}),
              platformSubnetIds: e.ZEKT_PLATFORM_SUBNET_IDS ?? [],
              ...(e.ZEKT_TENANT_PACKAGE_DIR ? { tenantPackageDir: e.ZEKT_TENANT_PACKAGE_DIR } : {}),
            },
          }
        : {}),
    },
    tenantRuntime: {
      ...(e.ZEKT_TENANT_ID ? { tenantId: e.ZEKT_TENANT_ID } : {}),
      ...(e.ZEKT_TENANT_VAULT_URL ? { vaultUrl: e.ZEKT_TENANT_VAULT_URL.replace(/\/$/, '') } : {}),
      ...(e.ZEKT_BROKER_URL ? { brokerUrl: e.ZEKT_BROKER_URL.replace(/\/$/, '') } : {}),
      ...(e.ZEKT_TENANT_BASE_URL
        ? { baseUrl: e.ZEKT_TENANT_BASE_URL.replace(/\/$/, '') }
        : e.WEBSITE_HOSTNAME
          ? { baseUrl: `https://${e.WEBSITE_HOSTNAME}` }
          : {}),
      messages: { maxBytes: e.ZEKT_MESSAGE_MAX_BYTES, maxDepth: e.ZEKT_MESSAGE_MAX_DEPTH, ttlSeconds: Math.round(e.ZEKT_MESSAGE_TTL_DAYS * 86400) },
      ...(e.ZEKT_LOCAL_IDENTITY_CLIENT_ID && e.ZEKT_LOCAL_IDENTITY_SECRET
        ? { localIdentity: { clientId: e.ZEKT_LOCAL_IDENTITY_CLIENT_ID, secret: e.ZEKT_LOCAL_IDENTITY_SECRET } }
        : {}),
      ...(e.ZEKT_BENCH_STORAGE_REQUEST_COUNTS ? { storageRequestCountsFile: e.ZEKT_BENCH_STORAGE_REQUEST_COUNTS } : {}),
      dispatch: {
        retrySchedule: e.ZEKT_DISPATCH_RETRY_SCHEDULE,
        timeoutMs: e.ZEKT_DISPATCH_TIMEOUT_MS,
        budgetPerMinute: e.ZEKT_DISPATCH_BUDGET_PER_MINUTE,
        budgetPerHour: e.ZEKT_DISPATCH_BUDGET_PER_HOUR,
        budgetMarginMs: e.ZEKT_DISPATCH_BUDGET_MARGIN_MS,
        budgetTimeScale: e.ZEKT_DISPATCH_BUDGET_TIME_SCALE,
        confirmAfterSeconds: e.ZEKT_DELIVERY_CONFIRM_SECONDS,
      },
    },
  };
}
