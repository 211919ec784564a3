/**
 * Signup never takes what it did not create, a tenant being deleted is a 409, and a failed tenant
 * shows its customer a short reason and a reference while the operator's `zekt tenants show`
 * keeps the detail (holes 2, 5 and 7 of the hardening issue).
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { enqueueProvisioning } from '../../automation/enqueue-provisioning.ts';
import { createJobQueue } from '../../automation/provisioning-jobs.ts';
import { createReconcileRuns } from '../../automation/reconcile-runs.ts';
import { tenantsCommand } from '../../automation/cli/tenants-command.ts';
import { platformStorageLayout } from '../../runtime/platform/platform-storage-layout.ts';
import { Browser, startIdentityHarness, type IdentityHarness } from './support.ts';

async function rows(h: IdentityHarness, table: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const row of h.storage.table(table).listEntities()) out.push(row);
  return out;
}

async function queued(h: IdentityHarness): Promise<number> {
  return (await h.storage.queue(platformStorageLayout.queues.provisioning).getProperties()).approximateMessagesCount ?? 0;
}

describe('identity: signup takes only what it creates', () => {
  let h: IdentityHarness;
  before(async () => {
    h = await startIdentityHarness();
  });
  after(() => h.close());

  /** A browser signed in as a new GitHub user (one per test: the harness is shared). */
  async function signedIn(login: string): Promise<Browser> {
    h.double.addUser({ login });
    h.double.signInAs(login);
    const browser = new Browser(h);
    await browser.signIn();
    return browser;
  }

  const jobs = () => createJobQueue(h.storage.queue(platformStorageLayout.queues.provisioning));

  it('refuses a tenant id an operator registered (zekt tenants create) with 409, changing nothing', async () => {
    await enqueueProvisioning({ registry: h.registry, jobs: jobs() }, 'acme');
    const before = await h.registry.require('acme');
    const jobsBefore = await queued(h);
    const accountsBefore = await rows(h, platformStorageLayout.tables.accounts);
    const alice = await signedIn('alice');
    const res = await alice.post('/api/signup', { tenantId: 'acme' });
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error: string }).error).to.match(/acme is taken/);
    expect(await h.registry.require('acme')).to.deep.equal(before);
    expect(await rows(h, platformStorageLayout.tables.accounts)).to.deep.equal(accountsBefore);
    expect(await queued(h)).to.equal(jobsBefore);
    expect((await alice.fetch(`${h.platformUrl}/api/tenants/me`)).status, 'still no tenant').to.equal(409);
  });

  it('gives an account whose login names a registered tenant the next free id', async () => {
    await enqueueProvisioning({ registry: h.registry, jobs: jobs() }, 'bob');
    const before = await h.registry.require('bob');
    const bob = await signedIn('bob');
    const res = await bob.post('/api/signup');
    expect(res.status).to.equal(202);
    expect(await res.json()).to.include({ tenantId: 'bob-2', status: 'requested' });
    expect(await h.registry.require('bob'), 'the operator tenant is untouched').to.deep.equal(before);
  });

  it('answers 409 to signup while the tenant is being deleted, and leaves it being deleted', async () => {
    const carol = await signedIn('carol');
    expect((await carol.post('/api/signup')).status).to.equal(202);
    await h.registry.update('carol', (r) => ({ ...r, status: 'deprovisioning', operation: 'destroy' }));
    const res = await carol.post('/api/signup');
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error: string }).error).to.match(/being deleted/);
    expect((await h.registry.require('carol')).status).to.equal('deprovisioning');
  });

  it('shows a failed tenant as a short reason and a reference; the operator sees the detail under that reference', async () => {
    const dave = await signedIn('dave');
    await dave.post('/api/signup');
    const engineOutput = `error: resource 'zekt-local:Vault kv-dave-1234' failed: connect ECONNREFUSED 127.0.0.1:7072\n${'Diagnostics: '.repeat(150)}`;
    await h.registry.update('dave', (r) => ({ ...r, status: 'provisioning' }));
    await h.registry.update('dave', (r) => ({ ...r, status: 'failed', lastError: { name: 'CommandError', message: engineOutput, at: new Date().toISOString() } }));

    const me = await dave.fetch(`${h.platformUrl}/api/tenants/me`);
    const body = (await me.json()) as { status: string; lastError: { reason: string; message: string; reference: string } };
    expect(body.status).to.equal('failed');
    expect(body.lastError.reason).to.equal('provisioning-failed');
    expect(body.lastError.reference).to.match(/^zk-[0-9a-f]{10}$/);
    expect(body.lastError.message.length).to.be.below(200);
    expect(JSON.stringify(body)).to.not.match(/ECONNREFUSED|kv-dave|Diagnostics|CommandError/);

    const out: string[] = [];
    const program = new Command('zekt').exitOverride();
    program.addCommand(
      tenantsCommand({
        controlPlane: async () => ({ registry: h.registry, jobs: jobs(), runs: createReconcileRuns({ table: h.storage.table(platformStorageLayout.tables.tenants) }) }),
        out: (line) => out.push(line),
        setExitCode: () => undefined,
        progress: { isTTY: false, write: () => true },
      }),
    );
    await program.parseAsync(['tenants', 'show', 'dave'], { from: 'user' });
    expect(out.join('\n')).to.include('ECONNREFUSED');
    expect(out.join('\n')).to.include(`reference: ${body.lastError.reference}`);
  });

  it('retries a failed tenant when its owner signs up again', async () => {
    const erin = await signedIn('erin');
    await erin.post('/api/signup');
    await h.registry.update('erin', (r) => ({ ...r, status: 'failed', lastError: { name: 'Error', message: 'boom', at: new Date().toISOString() } }));
    const res = await erin.post('/api/signup');
    expect(res.status).to.equal(202);
    expect(await res.json()).to.include({ tenantId: 'erin', status: 'requested' });
    expect((await h.registry.require('erin')).lastError).to.equal(undefined);
  });
});
