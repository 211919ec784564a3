/**
 * The tenant's function runtime on the local target (Azure: its Functions app): a process of its
 * own running the tenant function table, started by the resource manager with exactly the app
 * settings given here (a Pulumi secret input: they hold the storage key and the identity secret)
 * and restarted if it dies. A read reports whether it is running, so a dead or deleted runtime is
 * drift that `reconcile` repairs.
 */
import * as pulumi from '@pulumi/pulumi';
import { changed, requestResourceManager, type ManagerInputs } from './resource-manager-request.ts';

interface RuntimeInputs extends ManagerInputs {
  readonly tenantId: string;
  readonly runtimeName: string;
  readonly settings: Readonly<Record<string, string>>;
}

interface RuntimeView {
  readonly baseUrl: string;
  readonly running: boolean;
}

type RuntimeOutputs = RuntimeInputs & RuntimeView;

const provider: pulumi.dynamic.ResourceProvider<RuntimeInputs, RuntimeOutputs> = {
  async create(inputs) {
    const view = await requestResourceManager<RuntimeView>(inputs, 'PUT', `/function-runtimes/${inputs.runtimeName}`, {
      tenantId: inputs.tenantId,
      settings: inputs.settings,
    });
    if (!view) throw new Error(`function runtime ${inputs.runtimeName} was not created`);
    return { id: inputs.runtimeName, outs: { ...inputs, baseUrl: view.baseUrl, running: view.running } };
  },
  async read(id, props) {
    // Without state there is no manager to ask: importing existing local resources is not supported.
    if (!props) throw new Error(`cannot read ${id} without its state`);
    const view = await requestResourceManager<RuntimeView>(props, 'GET', `/function-runtimes/${id}`);
    if (!view) return {};
    return { id, props: { ...props, baseUrl: view.baseUrl, running: view.running } };
  },
  async diff(_id, olds, news) {
    const replaces = changed(olds, news, ['tenantId', 'runtimeName']);
    const updates = changed(olds, news, ['settings', 'managerUrl', 'managerToken']);
    // A runtime found stopped on refresh is started again by an update.
    const stopped = olds.running === false;
    return { changes: replaces.length + updates.length > 0 || stopped, replaces, deleteBeforeReplace: true };
  },
  async update(id, _olds, news) {
    const view = await requestResourceManager<RuntimeView>(news, 'PUT', `/function-runtimes/${id}`, { tenantId: news.tenantId, settings: news.settings });
    if (!view) throw new Error(`function runtime ${id} was not updated`);
    return { outs: { ...news, baseUrl: view.baseUrl, running: view.running } };
  },
  async delete(id, props) {
    await requestResourceManager(props, 'DELETE', `/function-runtimes/${id}`);
  },
};

export interface LocalFunctionRuntimeArgs {
  readonly tenantId: string;
  readonly runtimeName: string;
  readonly settings: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly managerUrl: pulumi.Input<string>;
  readonly managerToken: pulumi.Input<string>;
}

export class LocalFunctionRuntime extends pulumi.dynamic.Resource {
  declare readonly baseUrl: pulumi.Output<string>;
  declare readonly running: pulumi.Output<boolean>;

  constructor(name: string, args: LocalFunctionRuntimeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        settings: pulumi.secret(args.settings),
        managerToken: pulumi.secret(args.managerToken),
        baseUrl: undefined,
        running: undefined,
      },
      { ...opts, additionalSecretOutputs: ['settings', 'managerToken'] },
      'zekt-local',
      'FunctionRuntime',
    );
  }
}
