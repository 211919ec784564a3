import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { enqueueProvisioning } from '../../automation/enqueue-provisioning.ts';
import type { ProvisioningJob } from '../../automation/provisioning-jobs.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { startControlPlaneFixture, type ControlPlaneFixture } from './support/control-plane-fixture.ts';
import { startDelayingProxy, type DelayingProxy } from './support/delaying-proxy.ts';
import { descendants, engineProcesses, isAlive, waitGone } from './support/processes.ts';

const childScript = fileURLToPath(new URL('./support/provision-in-child.ts', import.meta.url));

describe('control plane: a worker killed mid-up (real engine)', function () {
  this.timeout(180_000);
  let fx: ControlPlaneFixture;
  let proxy: DelayingProxy;
  let child: ChildProcess | undefined;

  before(async () => {
    fx = await startControlPlaneFixture();
    // The runtime's create reaches the manager (which starts the runtime), but its answer never
    // comes back to the worker: the kill lands while that create is pending in the stack state.
    proxy = await startDelayingProxy(fx.controlPlane.manager.url, (method, url) => method === 'PUT' && url.startsWith('/function-runtimes/'));
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await proxy?.close();
    await fx?.stop();
  });

  it('leaves a lock and pending operations; the next attempt recovers, adopts what was created, and leaves no process behind', async () => {
    const { job } = await enqueueProvisioning({ registry: fx.controlPlane.registry, jobs: fx.controlPlane.jobs }, 'wayne');
    const passphrase = (await fx.controlPlane.platformVault.getSecret('pulumi-passphrase')).value as string;
    child = spawn(process.execPath, ['--import', 'tsx', childScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
    child.stdin?.end(
      JSON.stringify({
        settings: {
          ZEKT_STORAGE_CONNECTION_STRING: fx.azurite.connectionString(),
          ZEKT_STATE_DIR: fx.stateDir,
          ZEKT_TENANT_LEASE_SECONDS: '5',
          ZEKT_LOG_LEVEL: 'warn',
        },
        managerUrl: proxy.url,
        managerToken: fx.controlPlane.manager.adminToken,
        platformVaultName: fx.controlPlane.manager.platform.vaultName,
        passphrase,
        job,
      }),
    );

    await proxy.held;
    const record = await fx.controlPlane.registry.require('wayne');
    const names = tenantResourceNames('wayne', record.creationId);
    const engine = engineProcesses(await descendants(child.pid as number));
    expect(engine.length, 'the engine and its plugin run under the worker').to.be.greaterThan(0);
    const runtimeBefore = fx.controlPlane.manager.resources.getFunctionRuntime(names.functionApp);
    expect(runtimeBefore?.running).to.equal(true);

    child.kill('SIGKILL');
    await exited;
    // No engine or plugin process outlives the worker (the plugin host watches its parent).
    await waitGone(engine.map((p) => p.pid), 5000);

    expect(record.status).to.equal('provisioning');
    const lease = await fx.controlPlane.leases.holder('wayne');
    expect(lease, 'the dead worker is not a live holder').to.equal(undefined);
    const locks = path.join(fx.stateDir, 'pulumi', '.pulumi', 'locks');
    const lockFiles = await readdir(locks, { recursive: true });
    expect(lockFiles.some((f) => String(f).includes('tenant-wayne') && String(f).endsWith('.json')), 'lock left behind').to.equal(true);
    const selectStack = () =>
      fx.controlPlane.stacks.workspaces.open('wayne', { mode: 'select', program: fx.controlPlane.stacks.programFor(record), config: {} });
    const interrupted = await (await selectStack()).exportStack();
    expect((interrupted.deployment as { pending_operations?: unknown[] }).pending_operations, 'pending operations').to.have.length.greaterThan(0);

    // The next attempt: same job, this worker. It takes over the dead holder's lease, meets the
    // lock (ConcurrentUpdateError), recovers and finishes.
    expect(await fx.controlPlane.worker.run(job as ProvisioningJob)).to.equal('done');
    const after = await fx.controlPlane.registry.require('wayne');
    expect(after.status, JSON.stringify(after.lastError)).to.equal('ready');
    expect(after.attempts).to.equal(2);
    expect(fx.logs.lines.some((l) => String(l.msg).startsWith('recovering an interrupted update'))).to.equal(true);

    const recovered = await (await selectStack()).exportStack();
    expect((recovered.deployment as { pending_operations?: unknown[] }).pending_operations ?? []).to.deep.equal([]);
    const remainingLocks = (await readdir(locks, { recursive: true })).filter((f) => String(f).includes('tenant-wayne') && String(f).endsWith('.json'));
    expect(remainingLocks).to.deep.equal([]);

    // Adopted, not orphaned: the runtime the killed update started is the one in the stack.
    const runtimeAfter = fx.controlPlane.manager.resources.getFunctionRuntime(names.functionApp);
    expect(runtimeAfter?.pid).to.equal(runtimeBefore?.pid);
    expect((await fetch(`${after.outputs?.baseUrl}/api/health`)).status).to.equal(200);

    expect(engineProcesses(await descendants(process.pid))).to.deep.equal([]);
    expect(isAlive(child.pid as number)).to.equal(false);
  });
});
