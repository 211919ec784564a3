/**
 * `npm run bench:faults`: nothing accepted is lost. Against the real local platform (`npm start`'s
 * parts, a tenant ready and bound), signed deliveries at a fixed rate (a mix of workflow_run and
 * workflow_job, 5 % repeats) while a fault is injected, counted from storage afterwards (see
 * tests/faults/fault-rig.ts for what each column means):
 * 1. no fault; 2. the tenant runtime killed and kept dead for 60 s; 3. the platform's Azurite
 * stopped and started again (each on a platform of its own); then 4. a signup burst of 10 tenants
 * with the provisioning worker (its own process, as `zekt worker` runs) SIGKILLed mid-`up` and
 * started again: all ready, no stack lock left, no engine process left. Prints a table; never
 * fails on the figures. BENCH_FAULTS_COUNT (10000), BENCH_FAULTS_RATE (200),
 * BENCH_FAULTS_TENANT_DOWN_SECONDS (60), BENCH_FAULTS_STORAGE_DOWN_SECONDS (10),
 * BENCH_FAULTS_SIGNUPS (10) scale it; BENCH_FAULTS_ONLY (none,tenant,storage,worker) picks
 * scenarios; BENCH_FAULTS_LOG_LEVEL shows the platform's log.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enqueueProvisioning } from '../automation/enqueue-provisioning.ts';
import { formatTable, runLoad, startRig, type LoadResult, type Rig } from '../tests/faults/fault-rig.ts';
import { startControlPlaneFixture } from '../tests/control-plane/support/control-plane-fixture.ts';
import { descendants, engineProcesses } from '../tests/control-plane/support/processes.ts';

const count = Number(process.env.BENCH_FAULTS_COUNT ?? 10_000);
const rate = Number(process.env.BENCH_FAULTS_RATE ?? 200);
const tenantDownSeconds = Number(process.env.BENCH_FAULTS_TENANT_DOWN_SECONDS ?? 60);
const storageDownSeconds = Number(process.env.BENCH_FAULTS_STORAGE_DOWN_SECONDS ?? 10);
const signups = Number(process.env.BENCH_FAULTS_SIGNUPS ?? 10);
// Which scenarios run: a comma list of none, tenant, storage, worker (all by default).
const only = new Set((process.env.BENCH_FAULTS_ONLY ?? 'none,tenant,storage,worker').split(',').map((s) => s.trim()));
const logLevel = process.env.BENCH_FAULTS_LOG_LEVEL ?? 'silent';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Each scenario on a platform of its own: on a loaded machine the intake stores many deliveries
 * whose request GitHub (here the generator) had already given up on; those are real work for the
 * router, and on a shared platform they would sit in front of the next scenario's deliveries.
 */
async function onFreshRig(run: (rig: Rig) => Promise<LoadResult>): Promise<LoadResult> {
  const rig = await startRig({ logLevel, trace: true });
  try {
    return await run(rig);
  } finally {
    await rig.close();
  }
}

async function deliveryScenarios(): Promise<LoadResult[]> {
  const rows: LoadResult[] = [];
  const base = { count, ratePerSecond: rate, duplicateShare: 0.05, settleMs: 300_000, progress: true };
  if (only.has('none')) rows.push(await onFreshRig((rig) => runLoad(rig, { ...base, fault: 'none' })));
  if (only.has('tenant')) {
    console.error(formatTable(rows));
    rows.push(await onFreshRig((rig) => runLoad(rig, { ...base, fault: `tenant runtime killed, down ${tenantDownSeconds} s`, inject: () => rig.tenantOutage(tenantDownSeconds * 1000) })));
  }
  if (only.has('storage')) {
    console.error(formatTable(rows));
    rows.push(await onFreshRig((rig) => runLoad(rig, { ...base, fault: `Azurite stopped ${storageDownSeconds} s, restarted`, inject: () => rig.storageOutage(storageDownSeconds * 1000) })));
  }
  return rows;
}

interface SignupResult {
  readonly tenants: number;
  readonly ready: number;
  readonly killedDuring: string;
  readonly locksLeft: number;
  readonly enginesLeft: number;
  readonly seconds: number;
}

/** A signup burst; the worker process is killed while `up` runs, and a new one finishes the work. */
async function workerKilledScenario(): Promise<SignupResult> {
  const started = Date.now();
  const settings = { ZEKT_PROVISIONING_TIMEOUT_SECONDS: '60', ZEKT_PROVISIONING_PARALLELISM: '2' };
  const fx = await startControlPlaneFixture(settings);
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const script = fileURLToPath(new URL('./support/worker-process.ts', import.meta.url));
    const passphrase = (await fx.controlPlane.platformVault.getSecret('pulumi-passphrase')).value as string;
    const startWorker = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      const ready = new Promise<void>((resolve) => child.stdout?.on('data', (c: Buffer) => c.toString().includes('started') && resolve()));
      child.stdin?.end(
        JSON.stringify({
          settings: { ZEKT_STORAGE_CONNECTION_STRING: fx.azurite.connectionString(), ZEKT_STATE_DIR: fx.stateDir, ZEKT_TENANT_LEASE_SECONDS: '5', ZEKT_LOG_LEVEL: 'warn', ...settings },
          managerUrl: fx.controlPlane.manager.url,
          managerToken: fx.controlPlane.manager.adminToken,
          platformVaultName: fx.controlPlane.manager.platform.vaultName,
          passphrase,
        }),
      );
      await ready;
      return child;
    };
    // The in-process worker of the fixture is not polling: only the worker processes take jobs.
    const tenantIds = Array.from({ length: signups }, (_, i) => `burst-${i + 1}`);
    for (const id of tenantIds) await enqueueProvisioning({ registry: fx.controlPlane.registry, jobs: fx.controlPlane.jobs }, id);
    const first = await startWorker();
    // Mid-up: an engine runs under the worker and some tenant has made progress.
    let killedDuring = '';
    for (;;) {
      const records = await Promise.all(tenantIds.map((id) => fx.controlPlane.registry.require(id)));
      const busy = records.find((r) => r.status === 'provisioning' && (r.progress?.done ?? 0) > 0);
      if (busy && engineProcesses(await descendants(first.pid as number)).length) {
        killedDuring = `${busy.tenantId} at ${busy.progress?.done}/${busy.progress?.total}`;
        break;
      }
      await sleep(200);
    }
    first.kill('SIGKILL');
    await sleep(2000);
    await startWorker();
    const deadline = Date.now() + 20 * 60_000;
    let ready = 0;
    while (Date.now() < deadline) {
      const records = await Promise.all(tenantIds.map((id) => fx.controlPlane.registry.require(id)));
      ready = records.filter((r) => r.status === 'ready').length;
      if (ready === tenantIds.length) break;
      await sleep(1000);
    }
    for (const child of children) child.kill('SIGTERM');
    await sleep(3000);
    const locks = path.join(fx.stateDir, 'pulumi', '.pulumi', 'locks');
    const lockFiles = (await readdir(locks, { recursive: true }).catch(() => [] as string[])).filter((f) => String(f).endsWith('.json'));
    const enginesLeft = engineProcesses(await descendants(process.pid)).length;
    return { tenants: tenantIds.length, ready, killedDuring, locksLeft: lockFiles.length, enginesLeft, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fx.stop();
  }
}

const deliveries = await deliveryScenarios();
console.log(formatTable(deliveries));
for (const row of deliveries) {
  if (row.lost.length) console.log(`${row.fault}: lost ${row.lost.slice(0, 20).join(', ')}${row.lost.length > 20 ? ', …' : ''}`);
  if (row.duplicated.length) console.log(`${row.fault}: duplicated ${row.duplicated.slice(0, 20).join(', ')}`);
}
if (only.has('worker')) {
  const signup = await workerKilledScenario();
  console.log(
  `\n| load | fault | tenants | ready | locks left | engine processes left | took |\n| --- | --- | --- | --- | --- | --- | --- |\n| signup burst of ${signup.tenants} | provisioning worker SIGKILLed mid-up (${signup.killedDuring}), started again | ${signup.tenants} | ${signup.ready} | ${signup.locksLeft} | ${signup.enginesLeft} | ${signup.seconds} s |`,
  );
}
process.exit(0);
