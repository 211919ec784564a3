/**
 * The fault suite's small versions (tens of deliveries each; `npm run bench:faults` runs the big
 * ones): on the real local platform with a ready tenant, nothing answered 202 is lost or stored
 * twice — under plain load with repeats, with the tenant runtime dead for a while, and with the
 * platform's storage stopped and started again.
 */
import { expect } from 'chai';
import { runLoad, startRig, type LoadResult, type Rig } from './fault-rig.ts';

function expectNothingLost(result: LoadResult): void {
  expect(result.accepted, 'some deliveries were accepted').to.be.greaterThan(0);
  expect(result.lost, 'accepted but not forwarded').to.deep.equal([]);
  expect(result.duplicated, 'accepted twice').to.deep.equal([]);
  expect(result.stored).to.equal(result.accepted);
  expect(result.forwarded).to.equal(result.accepted);
}

describe('fault suite (small): nothing accepted is lost', function () {
  this.timeout(300_000);
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig?.close());

  it('40 deliveries at 20/s with 5 % repeats: each accepted one stored and forwarded once', async () => {
    const result = await runLoad(rig, { count: 40, ratePerSecond: 20, duplicateShare: 0.05, fault: 'none', settleMs: 30_000 });
    expectNothingLost(result);
    expect(result.refused).to.equal(0);
  });

  it('the tenant runtime dead for 3 s during the load: all delivered after it is back', async () => {
    const result = await runLoad(rig, { count: 40, ratePerSecond: 20, duplicateShare: 0.05, fault: 'tenant runtime dead 3 s', inject: () => rig.tenantOutage(3000), settleMs: 60_000 });
    expectNothingLost(result);
  });

  it("the platform's Azurite stopped for 2 s and started again: refusals during the outage, nothing accepted lost, the intake recovers", async () => {
    const result = await runLoad(rig, { count: 60, ratePerSecond: 20, duplicateShare: 0.05, fault: 'storage stopped 2 s', inject: () => rig.storageOutage(2000), settleMs: 60_000 });
    expectNothingLost(result);
    // After the outage the intake answers again by itself.
    const after = await runLoad(rig, { count: 10, ratePerSecond: 20, duplicateShare: 0, fault: 'none (after)', settleMs: 30_000 });
    expectNothingLost(after);
    expect(after.refused).to.equal(0);
  });
});
