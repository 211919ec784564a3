/**
 * The tenant's own storage account on the local target: an Azurite process serving only this
 * account (own name, own key), with the tenant's tables, queues and containers. Its key is a
 * secret output. A read reports the live endpoints, so a moved or deleted account shows up as
 * drift on refresh.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed, requestResourceManager, type ManagerInputs } from './resource-manager-request.ts';

interface StorageLayout {
  readonly tables: readonly string[];
  readonly queues: readonly string[];
  readonly containers: readonly string[];
}

interface StorageInputs extends ManagerInputs {
  readonly tenantId: string;
  readonly accountName: string;
  readonly layout: StorageLayout;
}

interface StorageView {
  readonly key: string;
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  /** False when its Azurite process is gone: drift, repaired by an update. */
  readonly running: boolean;
}

type StorageOutputs = StorageInputs & StorageView;

const provider: pulumi.dynamic.ResourceProvider<StorageInputs, StorageOutputs> = {
  async create(inputs) {
    const view = await requestResourceManager<StorageView>(inputs, 'PUT', `/storage-accounts/${inputs.accountName}`, {
      tenantId: inputs.tenantId,
      layout: inputs.layout,
    });
    if (!view) throw new Error(`storage account ${inputs.accountName} was not created`);
    return { id: inputs.accountName, outs: { ...inputs, key: view.key, blobEndpoint: view.blobEndpoint, queueEndpoint: view.queueEndpoint, tableEndpoint: view.tableEndpoint, running: view.running } };
  },
  async read(id, props) {
    // Without state there is no manager to ask: importing existing local resources is not supported.
    if (!props) throw new Error(`cannot read ${id} without its state`);
    const view = await requestResourceManager<StorageView>(props, 'GET', `/storage-accounts/${id}`);
    if (!view) return {};
    return { id, props: { ...props, key: view.key, blobEndpoint: view.blobEndpoint, queueEndpoint: view.queueEndpoint, tableEndpoint: view.tableEndpoint, running: view.running } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['tenantId', 'accountName']);
    const updates = changed(olds, news, ['layout', 'managerUrl', 'managerToken']);
    // An account found stopped on refresh is started again by an update.
    const stopped = olds.running === false;
    return { changes: replaces.length + updates.length > 0 || stopped, replaces, deleteBeforeReplace: true };
  },
  async update(id, _olds, news) {
    const view = await requestResourceManager<StorageView>(news, 'PUT', `/storage-accounts/${id}`, { tenantId: news.tenantId, layout: news.layout });
    if (!view) throw new Error(`storage account ${id} was not updated`);
    return { outs: { ...news, key: view.key, blobEndpoint: view.blobEndpoint, queueEndpoint: view.queueEndpoint, tableEndpoint: view.tableEndpoint, running: view.running } };
  },
  async delete(id, props) {
    await requestResourceManager(props, 'DELETE', `/storage-accounts/${id}`);
  },
};

export interface LocalStorageAccountArgs {
  readonly tenantId: string;
  readonly accountName: string;
  readonly layout: StorageLayout;
  readonly managerUrl: pulumi.Input<string>;
  readonly managerToken: pulumi.Input<string>;
}

export class LocalStorageAccount extends pulumi.dynamic.Resource {
  declare readonly accountName: pulumi.Output<string>;
  declare readonly key: pulumi.Output<string>;
  declare readonly blobEndpoint: pulumi.Output<string>;
  declare readonly queueEndpoint: pulumi.Output<string>;
  declare readonly tableEndpoint: pulumi.Output<string>;

  constructor(name: string, args: LocalStorageAccountArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        managerToken: pulumi.secret(args.managerToken),
        key: undefined,
        blobEndpoint: undefined,
        queueEndpoint: undefined,
        tableEndpoint: undefined,
        running: undefined,
      },
      { ...opts, additionalSecretOutputs: ['key', 'managerToken'] },
      'zekt-local',
      'StorageAccount',
    );
  }
}
