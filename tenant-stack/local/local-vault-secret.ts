/**
 * One secret in a local vault, written through the resource manager. The value is a Pulumi secret
 * input (generated once by `GeneratedSecret`), so a secret deleted or changed behind Pulumi's back
 * is found by refresh and written back with the same value by the next `up`.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed, requestResourceManager, type ManagerInputs } from './resource-manager-request.ts';

interface VaultSecretInputs extends ManagerInputs {
  readonly vaultName: string;
  readonly secretName: string;
  readonly value: string;
}

type VaultSecretOutputs = VaultSecretInputs & { readonly version: string };

const provider: pulumi.dynamic.ResourceProvider<VaultSecretInputs, VaultSecretOutputs> = {
  async create(inputs) {
    const result = await requestResourceManager<{ version: string }>(inputs, 'PUT', `/vaults/${inputs.vaultName}/secrets/${inputs.secretName}`, {
      value: inputs.value,
    });
    if (!result) throw new Error(`vault ${inputs.vaultName} does not exist`);
    return { id: `${inputs.vaultName}/${inputs.secretName}`, outs: { ...inputs, version: result.version } };
  },
  async read(id, props) {
    // Without state there is no manager to ask: importing existing local resources is not supported.
    if (!props) throw new Error(`cannot read ${id} without its state`);
    const found = await requestResourceManager<{ value: string; version: string }>(props, 'GET', `/vaults/${props.vaultName}/secrets/${props.secretName}`);
    if (!found) return {};
    return { id, props: { ...props, value: found.value, version: found.version } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['vaultName', 'secretName']);
    const updates = changed(olds, news, ['value', 'managerUrl', 'managerToken']);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },
  async update(_id, _olds, news) {
    const result = await requestResourceManager<{ version: string }>(news, 'PUT', `/vaults/${news.vaultName}/secrets/${news.secretName}`, { value: news.value });
    if (!result) throw new Error(`vault ${news.vaultName} does not exist`);
    return { outs: { ...news, version: result.version } };
  },
  async delete(_id, props) {
    await requestResourceManager(props, 'DELETE', `/vaults/${props.vaultName}/secrets/${props.secretName}`);
  },
};

export interface LocalVaultSecretArgs {
  readonly vaultName: pulumi.Input<string>;
  readonly secretName: string;
  readonly value: pulumi.Input<string>;
  readonly managerUrl: pulumi.Input<string>;
  readonly managerToken: pulumi.Input<string>;
}

export class LocalVaultSecret extends pulumi.dynamic.Resource {
  declare readonly version: pulumi.Output<string>;

  constructor(name: string, args: LocalVaultSecretArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { ...args, value: pulumi.secret(args.value), managerToken: pulumi.secret(args.managerToken), version: undefined },
      { ...opts, additionalSecretOutputs: ['value', 'managerToken'] },
      'zekt-local',
      'VaultSecret',
    );
  }
}
