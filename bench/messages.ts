/**
 * `npm run bench:messages`: the message endpoints on the local host with Azurite and the GitHub
 * double's OIDC issuer — `POST /api/messages` (1 KiB and 64 KiB bodies) and `GET /api/messages/{id}`
 * at a fixed 50 requests a second for 10 s each, every request with its own OIDC token (tokens are
 * issued before the clock starts). Azurite serves the tenant's table from one process, so the
 * figures say more about it (and the machine's load, printed first) than about Azure Tables.
 * Prints p50/p99 in milliseconds; never fails on them.
 */
import os from 'node:os';
import { sharedAzurite } from '../tests/support/azurite.ts';
import { startMessageHarness } from '../tests/messages/support.ts';

const rate = 50;
const seconds = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function atFixedRate(requests: (() => Promise<number>)[]): Promise<{ p50: number; p99: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    requests.map(async (send, i) => {
      const due = start + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const began = performance.now();
      const status = await send();
      latencies.push(performance.now() - began);
      if (status >= 300) failed++;
    }),
  );
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

const h = await startMessageHarness({ announce: false });
// Figures depend on what else the machine runs: say how busy it was.
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
try {
  const count = rate * seconds;
  const consumer = h.repositoryId('acme/consumer');
  const ids: string[] = [];
  for (const [label, size] of [['1 KiB', 1024], ['64 KiB', 64 * 1024 - 16]] as const) {
    const body = JSON.stringify({ data: 'x'.repeat(size - 11) });
    const tokens = await Promise.all(Array.from({ length: count }, (_, i) => h.token({ repository: 'acme/provider', runId: 100_000 + i + (size > 2048 ? count : 0) })));
    const figures = await atFixedRate(
      tokens.map((token) => async () => {
        const response = await fetch(h.messagesUrl, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
        const { id } = (await response.json()) as { id: string };
        if (size === 1024 && id) ids.push(id);
        return response.status;
      }),
    );
    console.log(`POST /api/messages ${label.padEnd(7)} at ${rate}/s: p50 ${figures.p50.toFixed(1)} ms  p99 ${figures.p99.toFixed(1)} ms  (${count} requests, ${figures.failed} failed)`);
  }
  for (const id of ids) h.delivered.add(`${id}:${consumer}`);
  const tokens = await Promise.all(ids.map((_, i) => h.token({ repository: 'acme/consumer', runId: 200_000 + i })));
  const figures = await atFixedRate(
    ids.map((id, i) => async () => {
      const response = await fetch(`${h.messagesUrl}/${id}`, { headers: { authorization: `Bearer ${tokens[i] as string}` } });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  console.log(`GET  /api/messages/{id} 1 KiB at ${rate}/s: p50 ${figures.p50.toFixed(1)} ms  p99 ${figures.p99.toFixed(1)} ms  (${ids.length} requests, ${figures.failed} failed)`);
} finally {
  await h.close();
  await (await sharedAzurite()).stop();
}
