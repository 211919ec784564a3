/**
 * `npm run bench:dispatch` (after bench/dispatch.ts), or `npx tsx bench/message-path.ts`: a
 * provider run's completion to its consumer run holding the message, through the whole local
 * path as `npm start` runs it — the GitHub double, the platform's ingress and router, the tenant
 * runtime in its own process (started by the local resource manager for a tenant provisioned
 * through the control plane), Azurite. Self-contained: it starts everything it measures.
 *
 * Set-up is the `npm start` story (sign-in, signup, provisioning, install, subscribe as code, one
 * message through the bundled Action), then `--runs` samples one after another, each:
 * the provider run starts and posts a message with its OIDC token (before the clock), then
 * completes (the clock starts: the double sends `workflow_run.completed`) → the double accepts the
 * `repository_dispatch` to the consumer (first figure) → the consumer run starts, asks the double
 * for its OIDC token and fetches the message from the tenant runtime (second figure: the body is
 * in the consumer's hands). The consumer's fetch is a plain HTTP call, what the Action's receive
 * mode does without starting a Node process. Prints p50/p99 in milliseconds; never fails on them.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../runtime/core/logger.ts';
import { startLocalPlatform } from '../local/start-local-platform.ts';
import { runDemoStory, type StoryMoment } from '../local/demo/demo-story.ts';
import { createDoubleControl, type StartedRun } from '../local/demo/double-control.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
const runs = Number(args.runs);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oidcToken(run: StartedRun, audience: string): Promise<string> {
  const res = await fetch(`${run.idTokenRequestUrl}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${run.idTokenRequestToken}` } });
  if (!res.ok) throw new Error(`the double's token endpoint answered ${res.status}`);
  return ((await res.json()) as { value: string }).value;
}

const platform = await startLocalPlatform({
  env: { ZEKT_PORT: '0', ZEKT_RESOURCE_MANAGER_PORT: '0', ZEKT_LOG_LEVEL: 'silent' },
  inMemory: true,
  log: createLogger({ level: 'silent' }),
});
try {
  const double = platform.githubDouble;
  if (!double) throw new Error('the local platform runs with the GitHub double');
  const setupStarted = Date.now();
  let moment: StoryMoment | undefined;
  await runDemoStory({
    platformUrl: platform.platformUrl,
    doubleControlUrl: double.controlUrl,
    say: () => undefined,
    between: { dispatched: async (story) => void (moment = story) },
  });
  if (!moment) throw new Error('the story never reached its dispatch');
  const { messagesUrl, tenantId } = moment;
  const audience = `zekt:${tenantId}`;
  console.log(`set-up (the npm start story, provisioning included): ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs; ${runs} runs, one after another`);

  const control = createDoubleControl(double.controlUrl);
  const toDispatch: number[] = [];
  const toFetch: number[] = [];
  for (let i = 0; i < runs; i++) {
    const provider = await control.startRun('mona/build', { workflow: 'release.yml', headBranch: 'main' });
    const body = JSON.stringify({ version: `2.0.${i}`, artifact: `build-2.0.${i}.tgz` });
    const posted = await fetch(`${messagesUrl}?name=release`, { method: 'POST', headers: { authorization: `Bearer ${await oidcToken(provider, audience)}` }, body });
    if (posted.status !== 201) throw new Error(`the provider's post answered ${posted.status}`);
    const { id } = (await posted.json()) as { id: string };
    const seen = double.dispatches.length;
    const started = performance.now();
    await control.completeRun('mona/build', provider.id, 'success');
    let dispatch;
    for (;;) {
      dispatch = double.dispatches.slice(seen).find((d) => d.repository === 'mona/deploy' && (d.clientPayload as { run?: { id?: number } }).run?.id === provider.id);
      if (dispatch) break;
      if (performance.now() - started > 120_000) throw new Error(`run ${provider.id} was never dispatched`);
      await sleep(2);
    }
    toDispatch.push(performance.now() - started);
    const refs = (dispatch.clientPayload as { messages?: { id: string }[] }).messages ?? [];
    if (!refs.some((r) => r.id === id)) throw new Error('the dispatch does not reference the message');
    const correlation = (dispatch.clientPayload as { zekt: { correlation_id: string } }).zekt.correlation_id;
    const consumer = await control.startRun('mona/deploy', { workflow: 'deploy.yml', event: 'repository_dispatch', displayTitle: `Deploy ${correlation}`, headBranch: 'main' });
    const fetched = await fetch(`${messagesUrl}/${id}`, { headers: { authorization: `Bearer ${await oidcToken(consumer, audience)}` } });
    await fetched.arrayBuffer();
    if (fetched.status !== 200) throw new Error(`the consumer's fetch answered ${fetched.status}`);
    toFetch.push(performance.now() - started);
  }
  for (const [label, values] of [['run completed → dispatch accepted', toDispatch], ['run completed → consumer fetched the message', toFetch]] as const) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(`${label.padEnd(46)} p50 ${percentile(sorted, 50).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  (${values.length} runs)`);
  }
} finally {
  await platform.stop();
}
