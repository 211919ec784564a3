/**
 * The floor of a persist-first intake on this machine, at a given rate: bench:ingress's `floor`
 * server (verify the signature, insert one row with the body deflated inline, answer 202) in its
 * own process with a fresh Azurite, fed signed webhooks at a fixed rate. What it costs per
 * delivery, in the server and in Azurite, is the least any intake that stores each delivery before
 * it answers pays here at that rate, before it routes anything: bench:dispatch prints it beside
 * the platform's figures, measured in the same run.
 */
import { randomBytes } from 'node:crypto';
import { startAzurite } from '../../local/azurite/start-azurite.ts';
import { cpuSeconds } from '../process-cpu.ts';
import { cpuPerDelivery, openLoop, signedBodies, startServer } from './webhook-load.ts';

export interface PersistFloor {
  readonly rate: number;
  /** CPU ms per delivery in the server process. */
  readonly server: number;
  /** CPU ms per delivery in its Azurite. */
  readonly storage: number;
  /** Deliveries not answered 202 (none when the figures hold). */
  readonly errors: number;
}

export async function measurePersistFloor(rate: number, seconds: number): Promise<PersistFloor> {
  const secret = randomBytes(20).toString('hex');
  const azurite = await startAzurite();
  try {
    const server = await startServer('floor', { BENCH_STORAGE: azurite.connectionString(), BENCH_WEBHOOK_SECRET: secret });
    try {
      // Only the workflow_run payload: the one the cost stage sends.
      const [run] = await signedBodies(secret);
      const payloads = [run as NonNullable<typeof run>];
      await openLoop(server.url, payloads, Math.min(rate, 100), 2);
      const before = [cpuSeconds(server.child.pid), cpuSeconds(azurite.pid)];
      const { errors } = await openLoop(server.url, payloads, rate, seconds);
      const [serverMs, storageMs] = cpuPerDelivery([server.child.pid, azurite.pid], before, rate * seconds);
      return { rate, server: serverMs as number, storage: storageMs as number, errors };
    } finally {
      server.child.kill('SIGKILL');
    }
  } finally {
    await azurite.stop();
  }
}

export function describePersistFloor(floor: PersistFloor): string {
  return `the floor here at ${floor.rate}/s (bench:ingress's \`floor\` server in its own process: verify, insert one row, answer 202; ${floor.errors} not answered 202): ${floor.server.toFixed(2)} ms in the server, ${floor.storage.toFixed(2)} ms in its Azurite per delivery`;
}
