/**
 * The tenant's identity on the local target (Azure: a user-assigned managed identity). The
 * resource manager issues a client id and a secret; the tenant's vault accepts tokens signed with
 * that secret and nothing else.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed, requestResourceManager, type ManagerInputs } from './resource-manager-request.ts';

interface IdentityInputs extends ManagerInputs {
  readonly tenantId: string;
  readonly identityName: string;
}

interface IdentityOutputs extends IdentityInputs {
  readonly clientId: string;
  readonly principalId: string;
  readonly clientSecret: string;
}

interface IdentityView {
  readonly clientId: string;
  readonly principalId: string;
  readonly clientSecret: string;
}

const provider: pulumi.dynamic.ResourceProvider<IdentityInputs, IdentityOutputs> = {
  async create(inputs) {
    const view = await requestResourceManager<IdentityView>(inputs, 'PUT', `/identities/${inputs.identityName}`, { tenantId: inputs.tenantId });
    if (!view) throw new Error(`identity ${inputs.identityName} was not created`);
    return { id: inputs.identityName, outs: { ...inputs, clientId: view.clientId, principalId: view.principalId, clientSecret: view.clientSecret } };
  },
  async read(id, props) {
    // Without state there is no manager to ask: importing existing local resources is not supported.
    if (!props) throw new Error(`cannot read ${id} without its state`);
    const view = await requestResourceManager<IdentityView>(props, 'GET', `/identities/${id}`);
    if (!view) return {};
    return { id, props: { ...props, clientId: view.clientId, principalId: view.principalId, clientSecret: view.clientSecret } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['tenantId', 'identityName']);
    const updates = changed(olds, news, ['managerUrl', 'managerToken']);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },
  async update(id, _olds, news) {
    const view = await requestResourceManager<IdentityView>(news, 'PUT', `/identities/${id}`, { tenantId: news.tenantId });
    if (!view) throw new Error(`identity ${id} was not updated`);
    return { outs: { ...news, clientId: view.clientId, principalId: view.principalId, clientSecret: view.clientSecret } };
  },
  async delete(id, props) {
    await requestResourceManager(props, 'DELETE', `/identities/${id}`);
  },
};

export interface LocalIdentityArgs {
  readonly tenantId: string;
  readonly identityName: string;
  readonly managerUrl: pulumi.Input<string>;
  readonly managerToken: pulumi.Input<string>;
}

export class LocalIdentity extends pulumi.dynamic.Resource {
  declare readonly clientId: pulumi.Output<string>;
  declare readonly principalId: pulumi.Output<string>;
  declare readonly clientSecret: pulumi.Output<string>;

  constructor(name: string, args: LocalIdentityArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      { ...args, managerToken: pulumi.secret(args.managerToken), clientId: undefined, principalId: undefined, clientSecret: undefined },
      { ...opts, additionalSecretOutputs: ['clientSecret', 'managerToken'] },
      'zekt-local',
      'Identity',
    );
  }
}
