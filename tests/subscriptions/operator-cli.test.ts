/**
 * The operator CLI's tenant commands (`zekt events|dispatches|subscriptions`) against a real
 * tenant runtime on Azurite: the tenant's base URL from the tenant registry, its forward secret
 * from the platform vault, a fresh `operator` credential per call — then list, show, redeliver
 * and sync, and the errors an operator meets (unknown tenant, tenant not ready, unknown ids).
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { startSubscriptionsWorld, type TenantRuntime, type World } from './support.ts';
import type { Installation } from '../../local/github-double/state.ts';
import { createTenantApiClient } from '../../automation/cli/tenant-api-client.ts';
import { createTenantForwardSecretReader } from '../../automation/cli/tenant-forward-secret.ts';
import type { TenantApiCommandDeps } from '../../automation/cli/tenant-api-command.ts';
import { eventsCommand } from '../../automation/cli/events-command.ts';
import { dispatchesCommand } from '../../automation/cli/dispatches-command.ts';
import { subscriptionsCommand } from '../../automation/cli/subscriptions-command.ts';
import { exitCodes } from '../../automation/cli/tenants-command.ts';

describe('zekt events|dispatches|subscriptions against a tenant runtime', function () {
  this.timeout(60_000);
  let world: World;
  let acme: TenantRuntime;
  let installation: Installation;
  let out: string[];
  let exitCode: number;

  const zekt = async (...args: string[]) => {
    out = [];
    exitCode = 0;
    const deps: TenantApiCommandDeps = {
      tenantApi: async () => createTenantApiClient({ registry: world.registry, forwardSecret: createTenantForwardSecretReader({ platformVault: world.vault }) }),
      out: (l) => out.push(l),
      setExitCode: (c) => (exitCode = c),
    };
    const program = new Command('zekt');
    for (const c of [eventsCommand(deps), dispatchesCommand(deps), subscriptionsCommand(deps)]) program.addCommand(c);
    // Usage errors throw instead of exiting the test process.
    const quiet = (c: Command) => {
      c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(args, { from: 'user' });
    return out;
  };
  const json = async <T>(...args: string[]) => JSON.parse((await zekt(...args, '--json'))[0] as string) as T;
  const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  before(async () => {
    world = await startSubscriptionsWorld(['acme']);
    acme = await world.addTenant('acme', { dispatch: true });
    const { double } = world;
    installation = double.addInstallation({
      account: 'acme',
      repositories: ['build', 'deploy', 'docs'],
      permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' },
      singleFilePaths: ['.github/zekt.yml'],
    });
    double.setFile('acme/deploy', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n');
    double.setFile('acme/docs', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/nowhere\n');
    const repositories = [...installation.repositoryIds].map((id, n) => ({ id, full_name: `acme/${['build', 'deploy', 'docs'][n] ?? ''}` }));
    await world.installations.applyEvent('installation', { action: 'created', installation: { id: installation.id, account: { login: 'acme' } }, repositories }, new Date());
    await world.installations.bind(installation.id, 'acme', {}, new Date());
    expect((await acme.forward('installation', {}, installation.id, 'created')).status).to.equal(200);
    await acme.drain();
  });
  after(() => world?.close());

  it('lists subscriptions as a table with the errors of a refused file, and syncs one repository on demand', async () => {
    const table = await zekt('subscriptions', 'list', '--tenant', 'acme');
    expect(table[0]).to.match(/^REPOSITORY\s+FILE\s+SUBSCRIBES TO/);
    expect(table.find((l) => l.startsWith('acme/deploy'))).to.match(/accepted\s+acme\/build/);
    expect(table.find((l) => l.startsWith('acme/docs '))).to.match(/rejected/);
    expect(table).to.include("acme/docs:.github/zekt.yml:2:15: provider acme/nowhere is not a repository of this tenant's installations");
    expect(exitCode).to.equal(0);

    world.double.setFile('acme/docs', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n');
    const synced = await json<{ repositories: { repository: { fullName: string }; outcome: string }[] }>('subscriptions', 'sync', '--tenant', 'acme', '--repository', 'acme/docs');
    expect(synced.repositories.map((r) => [r.repository.fullName, r.outcome])).to.deep.equal([['acme/docs', 'accepted']]);
    const all = await zekt('subscriptions', 'sync', '--tenant', 'acme');
    expect(all[0]).to.equal('synced 3 repositories');
    await zekt('subscriptions', 'sync', '--tenant', 'acme', '--repository', 'globex/secret');
    expect(exitCode).to.equal(exitCodes.notFound);
    expect(out[0]).to.match(/^error: /);
  });

  it('lists and shows events and dispatches, and redelivers one', async () => {
    const run = world.double.payloads.workflowRun({ action: 'completed', repository: 'acme/build', runId: 8101, workflowName: 'Release', workflowPath: '.github/workflows/release.yml' });
    expect((await acme.forward('workflow_run', run.payload, installation.id, 'completed')).status).to.equal(200);
    const eventId = `${[...installation.repositoryIds][0]}-8101-1`;
    const listed = await until('two dispatched deliveries', async () => {
      const page = await json<{ deliveries: { id: string; status: string; consumer: { full_name: string } }[] }>('dispatches', 'list', '--tenant', 'acme', '--status', 'dispatched');
      return page.deliveries.length === 2 ? page.deliveries : undefined;
    });
    expect(listed.map((d) => d.consumer.full_name).sort()).to.deep.equal(['acme/deploy', 'acme/docs']);

    const events = await json<{ events: { id: string; run: { id: number } }[]; next_cursor: string | null }>('events', 'list', '--tenant', 'acme');
    expect(events.events.map((e) => e.id)).to.deep.equal([eventId]);
    const table = await zekt('events', 'list', '--tenant', 'acme');
    expect(table[0]).to.match(/^EVENT\s+PROVIDER\s+WORKFLOW\s+RUN\s+CONCLUSION\s+CREATED\s+SETTLED$/);
    expect(table[1]).to.match(new RegExp(`^${eventId}\\s+acme/build\\s+release\\.yml\\s+8101/1\\s+success\\s+\\S+\\s+open$`));

    const shown = await zekt('events', 'show', eventId, '--tenant', 'acme');
    expect(shown).to.include('provider   acme/build');
    expect(shown.find((l) => l.startsWith(`${eventId}.`) && l.includes('acme/deploy'))).to.match(/dispatched\s+1\s+1/);

    const deploy = listed.find((d) => d.consumer.full_name === 'acme/deploy')?.id as string;
    const redelivered = await zekt('dispatches', 'redeliver', deploy, '--tenant', 'acme');
    expect(redelivered[0]).to.equal(`redelivering ${deploy} to acme/deploy as generation 2 (zekt.${deploy}.2); status queued`);
    await until('the second dispatch', async () =>
      world.double.dispatches.some((d) => (d.clientPayload as { zekt?: { correlation_id?: string } }).zekt?.correlation_id === `zekt.${deploy}.2`) ? true : undefined,
    );
    const dispatchTable = await zekt('dispatches', 'list', '--tenant', 'acme');
    expect(dispatchTable[0]).to.match(/^DELIVERY\s+CONSUMER\s+STATUS\s+ATTEMPTS\s+GEN/);
    expect(dispatchTable.find((l) => l.startsWith(deploy))).to.match(/acme\/deploy\s+dispatched\s+2\s+2/);
  });

  it('answers unknown ids and tenants with a clear error and a non-zero exit', async () => {
    await zekt('events', 'show', '1-2-3', '--tenant', 'acme');
    expect([exitCode, out[0]]).to.deep.equal([exitCodes.notFound, 'error: no such event']);
    const failed = await json<{ error: { message: string; status: number } }>('dispatches', 'redeliver', '1-2-3.4', '--tenant', 'acme');
    expect(failed.error).to.deep.include({ status: 404 });
    expect(exitCode).to.equal(exitCodes.notFound);

    await zekt('events', 'list', '--tenant', 'nobody');
    expect([exitCode, out[0]]).to.deep.equal([exitCodes.notFound, 'error: no tenant nobody (see `zekt tenants list`)']);

    await world.registry.create('pending', { requestId: 'r-pending' });
    await zekt('dispatches', 'list', '--tenant', 'pending');
    expect(exitCode).to.equal(exitCodes.unavailable);
    expect(out[0]).to.equal('error: tenant pending is requested, not ready (see `zekt tenants show pending`)');

    const error = await zekt('events', 'list', '--tenant', 'Not A Tenant').catch((err: unknown) => err);
    expect(String(error)).to.match(/tenant/i);
    const limit = await zekt('events', 'list', '--tenant', 'acme', '--limit', '500').catch((err: unknown) => err);
    expect(String(limit)).to.match(/from 1 to 100/);
  });
});
