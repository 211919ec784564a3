/**
 * What this machine charges for work done at a low rate. The same fixed piece of JavaScript
 * (parsing and writing out a 17 KB GitHub payload) is timed back to back and then once per timer
 * tick at a fixed rate, in a process of its own with nothing else to do. On a machine whose cores
 * go idle between ticks (caches and predictors cold again, the wake-up itself charged to the
 * process), each piece costs several times more at 200 a second than back to back, and an empty
 * tick costs something too: the floor under any per-delivery CPU figure taken at that rate.
 * Printed by the benchmarks beside their fixed-rate figures, never asserted.
 */
import { spawn } from 'node:child_process';

export interface LowRateFactor {
  /** CPU ms per piece, back to back. */
  readonly backToBackMs: number;
  /** CPU ms per piece at `rate` a second. */
  readonly atRateMs: number;
  /** CPU ms per empty tick at `rate` a second (the wake-up alone). */
  readonly emptyTickMs: number;
  readonly rate: number;
}

// Run in a child process: the benchmark's own process is busy with the platform.
const probe = `
const payload = JSON.stringify(JSON.parse(process.argv[1]));
const piece = () => JSON.stringify(JSON.parse(payload));
const empty = () => 0;
const used = (since) => { const c = process.cpuUsage(since); return (c.user + c.system) / 1000; };
const atRate = (work, rate, n) => new Promise((resolve) => {
  let i = 0;
  const start = performance.now();
  const since = process.cpuUsage();
  const tick = () => {
    work();
    if (++i >= n) return resolve(used(since) / n);
    setTimeout(tick, Math.max(0, start + (i * 1000) / rate - performance.now()));
  };
  tick();
});
const rate = Number(process.argv[2]);
for (let k = 0; k < 3000; k++) piece();
const since = process.cpuUsage();
for (let k = 0; k < 3000; k++) piece();
const backToBackMs = used(since) / 3000;
const atRateMs = await atRate(piece, rate, rate * 5);
const emptyTickMs = await atRate(empty, rate, rate * 5);
console.log(JSON.stringify({ backToBackMs, atRateMs, emptyTickMs, rate }));
`;

export function measureLowRateFactor(payloadJson: string, rate: number): Promise<LowRateFactor> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', probe, payloadJson, String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the low-rate probe exited with ${code}`));
      try {
        resolve(JSON.parse(out) as LowRateFactor);
      } catch (err) {
        reject(new Error('the low-rate probe printed no figures', { cause: err }));
      }
    });
  });
}

export function describeLowRateFactor(f: LowRateFactor): string {
  // The piece's own share at the rate: what its tick cost beyond an empty one.
  const pieceAtRate = Math.max(0, f.atRateMs - f.emptyTickMs);
  return `this machine at ${f.rate}/s: a timer tick that does nothing costs ${f.emptyTickMs.toFixed(3)} ms of CPU, and a fixed piece of work (a 17 KB payload parsed and written out) ${pieceAtRate.toFixed(3)} ms more, against ${f.backToBackMs.toFixed(3)} ms back to back (${(pieceAtRate / f.backToBackMs).toFixed(1)}×)`;
}
