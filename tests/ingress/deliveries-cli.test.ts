import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Command } from 'commander';
import { deliveriesCommand } from '../../automation/cli/deliveries-command.ts';
import { workflowRunPayload, starPayload } from '../fixtures/index.ts';
import { eventually, startIngressHarness, type IngressHarness } from './support.ts';

describe('zekt deliveries list|show|replay', () => {
  let h: IngressHarness;
  let out: string[];
  let exitCode: number;
  const run = async (...args: string[]) => {
    out = [];
    exitCode = 0;
    const program = new Command('zekt').exitOverride();
    program.addCommand(deliveriesCommand({ ingress: async () => h.ingress, out: (l) => out.push(l), setExitCode: (c) => (exitCode = c) }));
    // Usage errors throw instead of exiting the test process.
    const quiet = (c: Command) => {
      c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(['deliveries', ...args], { from: 'user' });
    return out;
  };

  before(async () => {
    h = await startIngressHarness({ forwardRetrySchedule: [] });
  });
  after(() => h.close());

  it('lists by status and tenant, shows the reason, and replays a dead letter to delivered', async () => {
    const tenant = await h.addTenant('acme');
    await h.ingress.installations.bind(4242, 'acme', {}, new Date());
    tenant.failWith.push({ status: 503 });
    const dead = randomUUID();
    const ignored = randomUUID();
    await h.send('workflow_run', workflowRunPayload(), { deliveryId: dead });
    await h.send('star', starPayload(), { deliveryId: ignored });
    await eventually(h, async () => expect((await h.ingress.deliveries.get(dead)).status).to.equal('dead'));

    const listed = JSON.parse((await run('list', '--status', 'dead', '--json'))[0] as string) as { deliveryId: string; lastError: string }[];
    expect(listed.map((d) => d.deliveryId)).to.deep.equal([dead]);
    expect(listed[0]?.lastError).to.match(/503/);
    expect(JSON.parse((await run('list', '--tenant', 'acme', '--since', '1h', '--json'))[0] as string)).to.have.length(1);
    expect(JSON.parse((await run('list', '--until', '1h', '--json'))[0] as string)).to.have.length(0);

    const shown = await run('show', dead);
    expect(shown.join('\n')).to.match(/status\s+dead/).and.match(/lastError\s+retries exhausted: tenant answered 503/);

    const replayed = JSON.parse((await run('replay', dead, '--json'))[0] as string) as { status: string };
    expect(replayed.status).to.equal('received');
    await eventually(h, async () => expect((await h.ingress.deliveries.get(dead)).status).to.equal('delivered'));
    expect(tenant.received.map((r) => r.status)).to.deep.equal([503, 200]);
  });

  it('exits 3 for an unknown delivery and 4 when replaying an event Zekt does not route', async () => {
    await run('show', randomUUID());
    expect(exitCode).to.equal(3);
    const ignored = randomUUID();
    await h.send('star', starPayload(), { deliveryId: ignored });
    await run('replay', ignored, '--json');
    expect(exitCode).to.equal(4);
    expect(JSON.parse(out[0] as string)).to.have.property('error');
  });

  it('refuses a bad --since and an unknown --status before touching storage', async () => {
    let error: unknown;
    try {
      await run('list', '--since', 'yesterday-ish');
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/ISO time or a duration/);
    error = undefined;
    try {
      await run('list', '--status', 'lost');
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/Allowed choices/);
  });
});
