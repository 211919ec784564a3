/**
 * The tenant's own vault on the local target: a Key Vault-compatible secrets endpoint (its own
 * https port on the resource manager) that accepts only the identities listed as readers — the
 * tenant's identity. Secrets are separate `LocalVaultSecret` resources.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed, requestResourceManager, type ManagerInputs } from './resource-manager-request.ts';

interface VaultInputs extends ManagerInputs {
  readonly tenantId: string;
  readonly vaultName: string;
  readonly readers: readonly string[];
}

interface VaultView {
  readonly vaultUri: string;
  readonly readers: readonly string[];
}

type VaultOutputs = VaultInputs & { readonly vaultUri: string };

const provider: pulumi.dynamic.ResourceProvider<VaultInputs, VaultOutputs> = {
  async create(inputs) {
    const view = await requestResourceManager<VaultView>(inputs, 'PUT', `/vaults/${inputs.vaultName}`, { tenantId: inputs.tenantId, readers: inputs.readers });
    if (!view) throw new Error(`vault ${inputs.vaultName} was not created`);
    return { id: inputs.vaultName, outs: { ...inputs, vaultUri: view.vaultUri } };
  },
  async read(id, props) {
    // Without state there is no manager to ask: importing existing local resources is not supported.
    if (!props) throw new Error(`cannot read ${id} without its state`);
    const view = await requestResourceManager<VaultView>(props, 'GET', `/vaults/${id}`);
    if (!view) return {};
    return { id, props: { ...props, readers: view.readers, vaultUri: view.vaultUri } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['tenantId', 'vaultName']);
    const updates = changed({ ...olds, readers: [...(olds.readers ?? [])].sort() }, { ...news, readers: [...news.readers].sort() }, [
      'readers',
      'managerUrl',
      'managerToken',
    ]);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },
  async update(id, _olds, news) {
    const view = await requestResourceManager<VaultView>(news, 'PUT', `/vaults/${id}`, { tenantId: news.tenantId, readers: news.readers });
    if (!view) throw new Error(`vault ${id} was not updated`);
    return { outs: { ...news, vaultUri: view.vaultUri } };
  },
  async delete(id, props) {
    await requestResourceManager(props, 'DELETE', `/vaults/${id}`);
  },
};

export interface LocalVaultArgs {
  readonly tenantId: string;
  readonly vaultName: string;
  /** Client ids of the identities the vault accepts. */
  readonly readers: pulumi.Input<pulumi.Input<string>[]>;
  readonly managerUrl: pulumi.Input<string>;
  readonly managerToken: pulumi.Input<string>;
}

export class LocalVault extends pulumi.dynamic.Resource {
  declare readonly vaultName: pulumi.Output<string>;
  declare readonly vaultUri: pulumi.Output<string>;

  constructor(name: string, args: LocalVaultArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { ...args, managerToken: pulumi.secret(args.managerToken), vaultUri: undefined },
      { ...opts, additionalSecretOutputs: ['managerToken'] },
      'zekt-local',
      'Vault',
    );
  }
}
