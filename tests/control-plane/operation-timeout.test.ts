import { expect } from 'chai';
import { enqueueProvisioning } from '../../automation/enqueue-provisioning.ts';
import type { ProvisioningJob } from '../../automation/provisioning-jobs.ts';
import { startControlPlaneFixture, type ControlPlaneFixture } from './support/control-plane-fixture.ts';
import { descendants, engineProcesses, waitGone } from './support/processes.ts';

describe('control plane: a stack operation past its timeout (real engine)', function () {
  this.timeout(180_000);
  let fx: ControlPlaneFixture;

  before(async () => {
    // A first `up` of a local tenant takes a few seconds: one second cuts it short.
    fx = await startControlPlaneFixture({ ZEKT_PROVISIONING_TIMEOUT_SECONDS: '1' });
  });
  after(async () => {
    await fx?.stop();
  });

  it('cancels the up, records why with the engine\'s error as the cause, schedules a retry and leaves no engine process', async () => {
    const { job } = await enqueueProvisioning({ registry: fx.controlPlane.registry, jobs: fx.controlPlane.jobs }, 'slowco');
    const startedAt = Date.now();
    const outcome = await fx.controlPlane.worker.run(job as ProvisioningJob);
    expect(outcome).to.equal('retry-scheduled');
    expect(Date.now() - startedAt, 'the up was stopped, not waited out').to.be.below(60_000);

    const record = await fx.controlPlane.registry.require('slowco');
    expect(record.status).to.equal('provisioning');
    expect(record.lastError?.name).to.equal('StackOperationTimeoutError');
    expect(record.lastError?.message).to.equal('the stack operation ran longer than 1 s and was cancelled');
    expect(record.lastError?.cause?.message, 'the engine\'s own error is kept').to.be.a('string').and.not.equal('');
    expect(record.nextAttemptAt, 'a retry is scheduled').to.be.a('string');

    const engine = engineProcesses(await descendants(process.pid));
    await waitGone(engine.map((p) => p.pid), 10_000);
    expect(await fx.controlPlane.leases.holder('slowco'), 'the lease is released').to.equal(undefined);
  });
});
