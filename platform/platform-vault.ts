/**
 * The platform's Key Vault: the GitHub App's secrets (set from Pulumi secret config, never plain)
 * and the RSA key that encrypts tenant stacks' secrets (`azurekeyvault://` secrets provider).
 * Secret names are the runtime's own (`platformSecretNames`).
 */
import * as pulumi from '@pulumi/pulumi';
import * as keyvault from '@pulumi/azure-native/keyvault/index.js';
import { platformSecretNames } from '../runtime/core/secret-store.ts';
import { HardenedKeyVault } from '../tenant-stack/azure/hardened-key-vault.ts';
import type { Tags } from '../tenant-stack/azure/zekt-tags.ts';

export interface PlatformVaultArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  readonly vaultName: string;
  readonly keyName: string;
  readonly entraTenantId: pulumi.Input<string>;
  readonly allowedSubnetIds: readonly pulumi.Input<string>[];
  readonly allowedIpRanges: readonly string[];
  readonly secrets: {
    readonly githubAppPrivateKey: pulumi.Output<string>;
    readonly githubWebhookSecret: pulumi.Output<string>;
    readonly githubWebhookSecretPrevious?: pulumi.Output<string>;
    readonly githubClientSecret: pulumi.Output<string>;
    readonly sessionKey: pulumi.Output<string>;
  };
  readonly tags: Tags;
}

export class PlatformVault extends pulumi.ComponentResource {
  readonly vaultId: pulumi.Output<string>;
  readonly vaultUri: pulumi.Output<string>;
  /** ARM id of the secrets-provider key (scope of the worker's Crypto User grant). */
  readonly keyId: pulumi.Output<string>;
  /** `azurekeyvault://<vault>.vault.azure.net/keys/<key>`: the tenant stacks' secrets provider. */
  readonly secretsProviderUrl: pulumi.Output<string>;

  constructor(name: string, args: PlatformVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:platform:PlatformVault', name, {}, opts);
    const s = args.secrets;
    const vault = new HardenedKeyVault(
      `${name}-kv`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.vaultName,
        entraTenantId: args.entraTenantId,
        allowedSubnetIds: args.allowedSubnetIds,
        allowedIpRanges: args.allowedIpRanges,
        secrets: {
          [platformSecretNames.appPrivateKey]: s.githubAppPrivateKey,
          [platformSecretNames.webhookSecret]: s.githubWebhookSecret,
          ...(s.githubWebhookSecretPrevious ? { [platformSecretNames.webhookSecretPrevious]: s.githubWebhookSecretPrevious } : {}),
          [platformSecretNames.oauthClientSecret]: s.githubClientSecret,
          [platformSecretNames.sessionKey]: s.sessionKey,
        },
        tags: args.tags,
      },
      { parent: this },
    );
    // Not rotated automatically: the secrets provider finds its key by URL without a version, so a
    // new version would leave existing stack secrets undecryptable until they are re-encrypted.
    const key = new keyvault.Key(
      `${name}-secrets-provider-key`,
      {
        keyName: args.keyName,
        vaultName: vault.vaultName,
        resourceGroupName: args.resourceGroupName,
        properties: {
          kty: keyvault.JsonWebKeyType.RSA,
          keySize: 3072,
          keyOps: [
            keyvault.JsonWebKeyOperation.Encrypt,
            keyvault.JsonWebKeyOperation.Decrypt,
            keyvault.JsonWebKeyOperation.WrapKey,
            keyvault.JsonWebKeyOperation.UnwrapKey,
          ],
          attributes: { enabled: true, exportable: false },
        },
        tags: args.tags,
      },
      { parent: this },
    );
    this.vaultId = vault.vaultId;
    this.vaultUri = vault.vaultUri;
    this.keyId = key.id;
    this.secretsProviderUrl = pulumi.interpolate`azurekeyvault://${vault.vaultName}.vault.azure.net/keys/${args.keyName}`;
    this.registerOutputs({ vaultId: this.vaultId, vaultUri: this.vaultUri, keyId: this.keyId, secretsProviderUrl: this.secretsProviderUrl });
  }
}
