/**
 * A random secret generated once, at create, and then kept in the stack state as a Pulumi secret
 * (encrypted by the stack's secrets provider): later `up`s see no change, so the value is stable
 * until the resource is replaced. The randomness comes from the provider process's Web Crypto
 * (`crypto.getRandomValues`, a global), so the serialised provider captures nothing.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed } from './resource-manager-request.ts';

interface GeneratedSecretInputs {
  /** What the secret is for; changing it replaces (regenerates) the secret. */
  readonly purpose: string;
  /** Random bytes before encoding. */
  readonly bytes: number;
  readonly encoding: 'base64' | 'base64url';
  /** Put before the encoded bytes (`whsec_` for Standard Webhooks secrets). */
  readonly prefix: string;
}

type GeneratedSecretOutputs = GeneratedSecretInputs & { readonly value: string };

const provider: pulumi.dynamic.ResourceProvider<GeneratedSecretInputs, GeneratedSecretOutputs> = {
  async create(inputs) {
    const random = crypto.getRandomValues(new Uint8Array(inputs.bytes));
    const value = `${inputs.prefix}${Buffer.from(random).toString(inputs.encoding)}`;
    return { id: inputs.purpose, outs: { ...inputs, value } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['purpose', 'bytes', 'encoding', 'prefix']);
    return { changes: replaces.length > 0, replaces };
  },
};

export interface GeneratedSecretArgs {
  readonly purpose: string;
  /** 32 by default (256 bits). */
  readonly bytes?: number;
  /** `base64url` by default. */
  readonly encoding?: 'base64' | 'base64url';
  readonly prefix?: string;
}

export class GeneratedSecret extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;

  constructor(name: string, args: GeneratedSecretArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { purpose: args.purpose, bytes: args.bytes ?? 32, encoding: args.encoding ?? 'base64url', prefix: args.prefix ?? '', value: undefined },
      { ...opts, additionalSecretOutputs: ['value'] },
      'zekt-local',
      'GeneratedSecret',
    );
  }
}
