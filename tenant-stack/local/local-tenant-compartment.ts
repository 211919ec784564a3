/**
 * A tenant compartment on the local target, with the same outputs contract as the Azure one:
 * identity → vault (accepting only that identity) with the tenant's secrets, own storage account,
 * and a function runtime that gets exactly this tenant's settings. Everything is created through
 * the local resource manager, whose URL and admin token are inputs (the token a secret).
 */
import * as pulumi from '@pulumi/pulumi';
import { tenantResourceNames } from '../resource-names.ts';
import { tenantStorageLayout, type TenantStackOutputs } from '../tenant-outputs.ts';
import { platformForwardSecretName, tenantSecretFormats, tenantSecretNames } from '../tenant-secrets.ts';
import { GeneratedSecret } from './generated-secret.ts';
import { LocalFunctionRuntime } from './local-function-runtime.ts';
import { LocalIdentity } from './local-identity.ts';
import { LocalStorageAccount } from './local-storage-account.ts';
import { LocalVault } from './local-vault.ts';
import { LocalVaultSecret } from './local-vault-secret.ts';

export interface LocalTenantCompartmentArgs {
  readonly tenantId: string;
  /** Fixed when the tenant is first created (registry); part of the vault name. */
  readonly creationId: string;
  /** The resource manager's admin API base URL. */
  readonly managerUrl: string;
  /** The resource manager's admin token; wrapped in `pulumi.secret` here. */
  readonly managerToken: pulumi.Input<string>;
  /** The platform's local vault, which gets the tenant's forward-signing secret. */
  readonly platformVaultName: string;
  /** Log level of the tenant runtime. */
  readonly logLevel?: string;
  /** The platform's base URL: the tenant runtime's token broker. */
  readonly platformUrl?: string;
  /** GitHub's REST API base URL the tenant runtime reads from and dispatches to (locally: the GitHub double). */
  readonly githubApiUrl?: string;
  /** The GitHub Actions OIDC issuer whose tokens the tenant's message endpoints accept (locally: the double's). */
  readonly githubOidcIssuer?: string;
}

type OutputsOf<T> = { readonly [K in keyof T]: pulumi.Output<T[K]> };

export class LocalTenantCompartment extends pulumi.ComponentResource {
  readonly outputs: OutputsOf<TenantStackOutputs>;

  constructor(name: string, args: LocalTenantCompartmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:local:TenantCompartment', name, {}, opts);
    const names = tenantResourceNames(args.tenantId, args.creationId);
    const manager = { managerUrl: args.managerUrl, managerToken: pulumi.secret(args.managerToken) };
    const child = { parent: this };

    const identity = new LocalIdentity(`${name}-identity`, { tenantId: args.tenantId, identityName: names.identity, ...manager }, child);
    const storage = new LocalStorageAccount(
      `${name}-storage`,
      {
        tenantId: args.tenantId,
        accountName: names.storageAccount,
        layout: {
          tables: [...tenantStorageLayout.tables],
          queues: [...tenantStorageLayout.queues],
          containers: [...tenantStorageLayout.containers],
        },
        ...manager,
      },
      child,
    );
    const vault = new LocalVault(`${name}-vault`, { tenantId: args.tenantId, vaultName: names.keyVault, readers: [identity.clientId], ...manager }, child);

    const secrets = (Object.keys(tenantSecretNames) as (keyof typeof tenantSecretNames)[]).map((purpose) => {
      const secretName = tenantSecretNames[purpose];
      const generated = new GeneratedSecret(`${name}-${secretName}`, { purpose, ...tenantSecretFormats[purpose] }, child);
      const stored = new LocalVaultSecret(
        `${name}-${secretName}-in-vault`,
        { vaultName: vault.vaultName, secretName, value: generated.value, ...manager },
        child,
      );
      return { purpose, value: generated.value, stored };
    });
    const forward = secrets.find((s) => s.purpose === 'forwardSigningSecret') as { value: pulumi.Output<string> };
    new LocalVaultSecret(
      `${name}-forward-secret-in-platform-vault`,
      { vaultName: args.platformVaultName, secretName: platformForwardSecretName(args.tenantId), value: forward.value, ...manager },
      child,
    );

    const connectionString = pulumi.interpolate`DefaultEndpointsProtocol=http;AccountName=${storage.accountName};AccountKey=${storage.key};BlobEndpoint=${storage.blobEndpoint};QueueEndpoint=${storage.queueEndpoint};TableEndpoint=${storage.tableEndpoint};`;
    const runtime = new LocalFunctionRuntime(
      `${name}-runtime`,
      {
        tenantId: args.tenantId,
        runtimeName: names.functionApp,
        settings: {
          ZEKT_TENANT_ID: args.tenantId,
          ZEKT_LOG_LEVEL: args.logLevel ?? 'info',
          ZEKT_STORAGE_CONNECTION_STRING: connectionString,
          ZEKT_TENANT_VAULT_URL: vault.vaultUri,
          ZEKT_LOCAL_IDENTITY_CLIENT_ID: identity.clientId,
          ZEKT_LOCAL_IDENTITY_SECRET: identity.clientSecret,
          ...(args.platformUrl ? { ZEKT_BROKER_URL: args.platformUrl } : {}),
          ...(args.githubApiUrl ? { GITHUB_API_URL: args.githubApiUrl } : {}),
          ...(args.githubOidcIssuer ? { GITHUB_OIDC_ISSUER: args.githubOidcIssuer } : {}),
        },
        ...manager,
      },
      // The runtime may read its secrets as soon as it starts: they are in the vault first.
      { parent: this, dependsOn: secrets.map((s) => s.stored) },
    );

    this.outputs = {
      tenantId: pulumi.output(args.tenantId),
      baseUrl: runtime.baseUrl,
      webhookUrl: pulumi.interpolate`${runtime.baseUrl}/api/webhooks`,
      messagesUrl: pulumi.interpolate`${runtime.baseUrl}/api/messages`,
      vaultUri: vault.vaultUri,
      storageAccountName: storage.accountName,
      blobEndpoint: storage.blobEndpoint,
      queueEndpoint: storage.queueEndpoint,
      tableEndpoint: storage.tableEndpoint,
      identityClientId: identity.clientId,
      identityPrincipalId: identity.principalId,
      // Locally there is no resource group; the compartment keeps the Azure name as its label.
      resourceGroupName: pulumi.output(names.resourceGroup),
    };
    this.registerOutputs(this.outputs);
  }
}
