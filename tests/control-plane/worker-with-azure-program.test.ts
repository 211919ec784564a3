/**
 * The Azure tenant program driven through the same control-plane code as the local target —
 * request, worker, lease, registry, provisioner, progress, outputs contract — with Pulumi's mocks
 * in place of the engine and of Azure (the mocks answer like ARM: tests/pulumi/support). Only the
 * stack is a stand-in: its `up` runs the inline program under the mocks and reports engine events
 * for what the program registered.
 * (Last in this folder on purpose: the mocks are process-wide, the engine tests run before.)
 */
import os from 'node:os';
import { expect } from 'chai';
import type { Output } from '@pulumi/pulumi';
import type { EngineEvent, OutputMap, PulumiFn, Stack, UpOptions } from '@pulumi/pulumi/automation/index.js';
import { createControlPlane, type ControlPlane } from '../../automation/create-control-plane.ts';
import { enqueueProvisioning } from '../../automation/enqueue-provisioning.ts';
import type { StackWorkspaces } from '../../automation/stack-workspace.ts';
import { loadConfig } from '../../runtime/config.ts';
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { tenantOutputKeys, type TenantStackOutputs } from '../../tenant-stack/tenant-outputs.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { installAzureMocks, valueOf, type AzureMocks } from '../pulumi/support/azure-mocks.ts';
import { sharedAzurite, uniqueName } from '../support/azurite.ts';
import { memoryLogger } from '../support/logs.ts';

/** A stack whose `up` runs the inline program under Pulumi's mocks. */
function mockedWorkspaces(mocks: AzureMocks): StackWorkspaces & { ups: number } {
  const state = { ups: 0 };
  return {
    get ups() {
      return state.ups;
    },
    workDir: (tenantId) => `/nonexistent/${tenantId}`,
    async open(tenantId, options) {
      const program: PulumiFn = options.program;
      const stack = {
        name: `tenant-${tenantId}`,
        async up(opts?: UpOptions) {
          state.ups += 1;
          const first = mocks.resources.length;
          const outputs = (await program()) as Record<string, Output<unknown>>;
          const values = Object.fromEntries(await Promise.all(Object.entries(outputs).map(async ([k, v]) => [k, await valueOf(v)] as const)));
          await mocks.settle();
          const registered = mocks.resources.slice(first);
          let sequence = 0;
          const emit = (event: Omit<EngineEvent, 'sequence' | 'timestamp'>) => opts?.onEvent?.({ sequence: sequence++, timestamp: Date.now() / 1000, ...event });
          for (const r of registered) {
            const metadata = { op: 'create' as const, urn: r.urn, type: r.type, provider: '' };
            emit({ resourcePreEvent: { metadata } });
            emit({ resOutputsEvent: { metadata } });
          }
          emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: { create: registered.length }, policyPacks: {} } });
          const map: OutputMap = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v, secret: false }]));
          return { stdout: '', stderr: '', outputs: map, summary: { resourceChanges: { create: registered.length } } };
        },
      };
      // The provisioner only calls `up` (and reads `name`); the rest of Stack is not needed here.
      return stack as unknown as Stack;
    },
  };
}

describe('control plane: the Azure tenant program through the provisioning worker (Pulumi mocks)', () => {
  let mocks: AzureMocks;
  let workspaces: ReturnType<typeof mockedWorkspaces>;
  let controlPlane: ControlPlane;

  before(async () => {
    mocks = await installAzureMocks();
    workspaces = mockedWorkspaces(mocks);
    const azurite = await sharedAzurite();
    const config = loadConfig({
      ZEKT_STORAGE_CONNECTION_STRING: azurite.connectionString(),
      ZEKT_TENANT_TARGET: 'azure',
      ZEKT_PULUMI_BACKEND_URL: 'azblob://pulumi-state',
      ZEKT_PULUMI_SECRETS_PROVIDER: 'azurekeyvault://kv-zekt-platform.vault.azure.net/keys/pulumi-secrets',
      ZEKT_TENANT_LOCATION: 'westeurope',
      ZEKT_CONTROL_PLANE_PRINCIPAL_ID: '11111111-2222-4333-8444-555555555555',
      ZEKT_INGRESS_PRINCIPAL_ID: '99999999-8888-4777-8666-555555555555',
      ZEKT_PUBLIC_URL: 'https://zekt.example.com',
    });
    // Own table and queue names: the shared Azurite is shared with other tests.
    const storage = createStorage(config.storage);
    const tableName = uniqueName('tenants');
    const queueName = uniqueName('provisioning');
    const isolated = { ...storage, table: () => storage.table(tableName), queue: () => storage.queue(queueName) };
    controlPlane = await createControlPlane({
      config,
      storage: isolated,
      log: memoryLogger().log,
      workspaces,
      holder: { id: 'azure-mock-test', host: os.hostname(), pid: process.pid },
    });
  });

  it('provisions a tenant to ready with every output of the contract, Azure-shaped', async () => {
    const { job } = await enqueueProvisioning({ registry: controlPlane.registry, jobs: controlPlane.jobs }, 'acme');
    expect(await controlPlane.worker.run(job as NonNullable<typeof job>)).to.equal('done');
    const record = await controlPlane.registry.require('acme');
    expect(record.status, JSON.stringify(record.lastError)).to.equal('ready');
    const outputs = record.outputs as TenantStackOutputs;
    for (const key of tenantOutputKeys) expect(outputs[key], key).to.be.a('string').and.not.equal('');
    expect(outputs.resourceGroupName).to.equal('rg-zekt-acme');
    expect(outputs.baseUrl).to.match(/^https:\/\/func-zekt-acme-[0-9a-f]{8}\.azurewebsites\.net$/);
    expect(outputs.webhookUrl).to.equal(`${outputs.baseUrl}/api/webhooks`);
    expect(outputs.vaultUri).to.equal(`https://${tenantResourceNames('acme', record.creationId).keyVault}.vault.azure.net/`);
    expect(outputs.tableEndpoint).to.equal(`https://${outputs.storageAccountName}.table.core.windows.net/`);
    // Progress counted every resource the program registered.
    expect(record.progress?.total).to.be.greaterThan(20);
    expect(record.progress?.done).to.equal(record.progress?.total);
    expect(workspaces.ups).to.equal(1);
    // The tenant's secrets are Pulumi secrets handed to Key Vault, never outputs or registry fields.
    const secrets = mocks.resources.filter((r) => r.type === 'azure-native:keyvault:Secret');
    expect(secrets.map((s) => s.name).some((n) => n.startsWith('acme-'))).to.equal(true);
    expect(JSON.stringify(record)).to.not.match(/whsec_/);
  });

  it('runs a duplicate of the job as no second update', async () => {
    const record = await controlPlane.registry.require('acme');
    expect(await controlPlane.worker.run({ kind: 'provision', tenantId: 'acme', requestId: record.requestId })).to.equal('duplicate');
    expect(workspaces.ups).to.equal(1);
  });
});
