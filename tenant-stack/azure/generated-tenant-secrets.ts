/**
 * The tenant's own secrets (`../tenant-secrets.ts` names them), generated once and then stable:
 * `RandomBytes` keeps its value in the stack state (encrypted by the stack's secrets provider) and
 * only changes when the resource is replaced. They are handed on as Pulumi secrets and stored only
 * as Key Vault secrets in the tenant's vault; neither is a stack output.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { tenantSecretFormats } from '../tenant-secrets.ts';

export class GeneratedTenantSecrets extends pulumi.ComponentResource {
  /** Standard Webhooks secret (`whsec_…`). */
  readonly forwardSigningSecret: pulumi.Output<string>;
  /** 256-bit key, base64. */
  readonly messageEncryptionKey: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('zekt:tenant:GeneratedTenantSecrets', name, {}, opts);
    const child = { parent: this };
    const generate = (key: 'forwardSigningSecret' | 'messageEncryptionKey', logical: string): pulumi.Output<string> => {
      const { encoding, prefix } = tenantSecretFormats[key];
      const bytes = new random.RandomBytes(`${name}-${logical}`, { length: 32 }, child);
      // The engine marks `base64` secret by itself; wrapping it again keeps that true whatever
      // engine or mock runs the program.
      const encoded = encoding === 'base64' ? bytes.base64 : bytes.base64.apply((b) => Buffer.from(b, 'base64').toString('base64url'));
      return pulumi.secret(pulumi.interpolate`${prefix}${encoded}`);
    };
    this.forwardSigningSecret = generate('forwardSigningSecret', 'forward-signing');
    this.messageEncryptionKey = generate('messageEncryptionKey', 'message-encryption');
    this.registerOutputs({});
  }
}
