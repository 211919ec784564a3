import { expect } from 'chai';
import { startSubscriptionsWorld, type TenantRuntime, type World } from './support.ts';
import type { Installation } from '../../local/github-double/state.ts';
import type { TimerFunction } from '../../runtime/functions/function-table.ts';
import { createInvocationContext } from '../../runtime/local-host/invocation-context.ts';
import { createLogger } from '../../runtime/core/logger.ts';

// The two files of the issue, exactly as written there.
const consumerFile = `# .github/zekt.yml of a consumer repository
subscriptions:
  - provider: acme/build        # owner/repo
    workflows: [release.yml]    # file names or names; omitted: all
    conclusions: [success]      # default [success]
    branches: [main]            # omitted: any
`;
const providerFile = `# .github/zekt.yml of a provider repository
publish:
  consumers: [acme/deploy, acme/docs]
`;

type FileView = {
  repository: { id: number; fullName: string };
  outcome: string;
  errors: { line: number; column: number; message: string }[];
  subscriptions: { provider: { id: number; fullName: string }; workflows?: string[]; conclusions: string[]; branches?: string[] }[];
  publish: { consumers: number[] | 'all'; settledReport: boolean } | null;
};

describe('subscriptions as code: .github/zekt.yml in the tenant runtime', function () {
  this.timeout(60_000);
  let world: World;
  let acme: TenantRuntime;
  let installation: Installation;
  let ids: Record<'build' | 'deploy' | 'docs', number>;

  const files = async () => {
    const res = await acme.api('GET', 'subscriptions');
    expect(res.status).to.equal(200);
    return res.body as { installations: number[]; repositories: FileView[] };
  };
  // The double made the repositories in this order.
  const repositoriesOf = (i: Installation) => [...i.repositoryIds].map((id, n) => ({ id, full_name: `acme/${['build', 'deploy', 'docs'][n] ?? ''}` }));
  const fileOf = async (name: string) => (await files()).repositories.find((r) => r.repository.fullName === name);

  before(async () => {
    world = await startSubscriptionsWorld(['acme']);
    acme = await world.addTenant('acme');
  });
  after(() => world?.close());

  beforeEach(async () => {
    const { double } = world;
    // One installation for the whole suite (the double allows one per account); each test starts from the example files.
    installation ??= double.addInstallation({
      account: 'acme',
      repositories: ['build', 'deploy', 'docs'],
      permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' },
      singleFilePaths: ['.github/zekt.yml'],
    });
    double.setFile('acme/build', '.github/zekt.yml', providerFile);
    double.setFile('acme/deploy', '.github/zekt.yml', consumerFile);
    double.setFile('acme/docs', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n');
    const [build, deploy, docs] = [...installation.repositoryIds] as [number, number, number];
    ids = { build, deploy, docs };
    // What the platform knows of the installation (from GitHub's installation webhooks), bound to the tenant.
    await world.installations.applyEvent('installation', { action: 'created', installation: { id: installation.id, account: { login: 'acme' } }, repositories: repositoriesOf(installation) }, new Date());
    await world.installations.bind(installation.id, 'acme', {}, new Date());
    // The tenant learns its installation from a forwarded delivery (installation.created, after binding) and syncs.
    expect((await acme.forward('installation', {}, installation.id, 'created')).status).to.equal(200);
    await acme.drain();
  });

  it('accepts the two example files: the consumer subscribes, the provider allows its consumers', async () => {
    const deploy = await fileOf('acme/deploy');
    expect(deploy?.outcome, JSON.stringify(deploy)).to.equal('accepted');
    expect(deploy?.errors).to.deep.equal([]);
    expect(deploy?.subscriptions).to.have.length(1);
    expect(deploy?.subscriptions[0]).to.deep.include({ workflows: ['release.yml'], conclusions: ['success'], branches: ['main'] });
    expect(deploy?.subscriptions[0]?.provider).to.deep.equal({ id: ids.build, fullName: 'acme/build' });
    const build = await fileOf('acme/build');
    expect(build?.publish).to.deep.equal({ provider: { id: ids.build, fullName: 'acme/build' }, consumers: [ids.deploy, ids.docs], settledReport: false });
    // What dispatch asks: who subscribed to acme/build? docs got the default conclusions.
    const subscribers = await acme.index.subscriptionsTo(ids.build);
    expect(subscribers.map((s) => s.consumer.fullName).sort()).to.deep.equal(['acme/deploy', 'acme/docs']);
    expect(subscribers.find((s) => s.consumer.id === ids.docs)?.conclusions).to.deep.equal(['success']);
    expect((await files()).installations).to.deep.equal([installation.id]);
  });

  it('keeps the old subscriptions when a new file does not validate, and shows each error with line and column', async () => {
    world.double.setFile('acme/deploy', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n    conclusions: [sucess]\n    colour: red\n');
    const res = await acme.api('POST', 'subscriptions/sync', { repository: 'acme/deploy' });
    expect(res.status).to.equal(200);
    const deploy = await fileOf('acme/deploy');
    expect(deploy?.outcome).to.equal('rejected');
    expect(deploy?.errors.map((e) => [e.line, e.column])).to.deep.equal([
      [4, 5],
      [3, 19],
    ]);
    expect(deploy?.errors[0]?.message).to.include('"colour" is not a known key');
    expect(deploy?.errors[1]?.message).to.include('must be one of success');
    // Still in force: the accepted file's entry.
    expect(deploy?.subscriptions.map((s) => s.workflows)).to.deep.equal([['release.yml']]);
  });

  it('refuses a provider outside the tenant\'s installations, at its line, and keeps the old subscriptions', async () => {
    const other = world.double.addInstallation({ account: 'globex', repositories: ['secret'] });
    const secretId = [...other.repositoryIds][0] as number;
    world.double.setFile('acme/deploy', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n  - provider: globex/secret\n');
    await acme.api('POST', 'subscriptions/sync', { repository_id: ids.deploy });
    const deploy = await fileOf('acme/deploy');
    expect(deploy?.outcome).to.equal('rejected');
    expect(deploy?.errors).to.deep.equal([{ line: 3, column: 15, path: '/subscriptions/1/provider', message: "provider globex/secret is not a repository of this tenant's installations" }]);
    expect(await acme.index.subscriptionsTo(secretId)).to.deep.equal([]);
    expect(deploy?.subscriptions.map((s) => s.provider.fullName)).to.deep.equal(['acme/build']);
  });

  it('syncs a repository again when a push touching its file is forwarded', async () => {
    world.double.setFile('acme/deploy', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/docs\n    branches: [release]\n');
    const push = { ref: 'refs/heads/main', repository: { id: ids.deploy, full_name: 'acme/deploy', default_branch: 'main' } };
    expect((await acme.forward('push', push, installation.id)).status).to.equal(200);
    await acme.drain();
    const deploy = await fileOf('acme/deploy');
    expect(deploy?.subscriptions.map((s) => [s.provider.fullName, s.branches])).to.deep.equal([['acme/docs', ['release']]]);
    expect(await acme.index.subscriptionsTo(ids.build).then((s) => s.map((x) => x.consumer.fullName))).to.deep.equal(['acme/docs']);
  });

  it('on the timer: a change whose webhook was lost is picked up', async () => {
    world.double.setFile('acme/docs', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/deploy\n');
    const timer = acme.table.find((f): f is TimerFunction => f.kind === 'timer' && f.name === 'syncSubscriptionsTimer');
    expect(timer?.schedule).to.equal('0 */15 * * * *');
    await timer?.handler({ isPastDue: false }, createInvocationContext('syncSubscriptionsTimer', createLogger({ level: 'silent' })));
    const docs = await fileOf('acme/docs');
    expect(docs?.subscriptions.map((s) => s.provider.fullName)).to.deep.equal(['acme/deploy']);
    world.double.setFile('acme/docs', '.github/zekt.yml', 'subscriptions:\n  - provider: acme/build\n');
    await acme.api('POST', 'subscriptions/sync');
  });

  it('drops a repository removed from the installation, and every entry naming it', async () => {
    installation.repositoryIds.delete(ids.build);
    await world.installations.applyEvent('installation_repositories', { action: 'removed', installation: { id: installation.id }, repositories_removed: [{ id: ids.build, full_name: 'acme/build' }] }, new Date());
    expect((await acme.forward('installation_repositories', { repositories_removed: [{ id: ids.build, full_name: 'acme/build' }] }, installation.id, 'removed')).status).to.equal(200);
    await acme.drain();
    const after = await files();
    expect(after.repositories.map((r) => r.repository.fullName)).to.deep.equal(['acme/deploy', 'acme/docs']);
    expect(await acme.index.subscriptionsTo(ids.build)).to.deep.equal([]);
    expect(await acme.index.publishPolicyOf(ids.build)).to.equal(undefined);
    // Its files now name a provider the tenant does not have: refused, and nothing outside is kept.
    expect((await fileOf('acme/deploy'))?.outcome).to.equal('rejected');
    expect((await fileOf('acme/deploy'))?.subscriptions).to.deep.equal([]);
    installation.repositoryIds.add(ids.build);
    await acme.api('POST', 'subscriptions/sync');
    expect((await fileOf('acme/deploy'))?.outcome).to.equal('accepted');
  });

  it('answers 400 to a bad sync request and 404 to a repository outside the installations, changing nothing', async () => {
    const before = await files();
    expect((await acme.api('POST', 'subscriptions/sync', { repository: 'not a name' })).status).to.equal(400);
    expect((await acme.api('POST', 'subscriptions/sync', { repository: 'acme/deploy', extra: 1 })).status).to.equal(400);
    expect((await acme.api('POST', 'subscriptions/sync', { repository: 'globex/elsewhere' })).status).to.equal(404);
    const after = await files();
    expect(after.repositories.map((r) => r.repository.id)).to.deep.equal(before.repositories.map((r) => r.repository.id));
    expect(after.repositories.map((r) => r.subscriptions)).to.deep.equal(before.repositories.map((r) => r.subscriptions));
  });

  it('refuses the API without a credential, or with one for another tenant', async () => {
    expect((await fetch(`${acme.url}/api/subscriptions`)).status).to.equal(401);
    const { issueTenantApiCredential } = await import('../../runtime/tenant/tenant-api-credential.ts');
    const foreign = await issueTenantApiCredential({ tenantId: 'globex', forwardSecret: acme.forwardSecret, subject: 'operator' });
    expect((await acme.api('GET', 'subscriptions', undefined, foreign)).status).to.equal(401);
    expect((await acme.api('POST', 'subscriptions/sync', undefined, 'not-a-token')).status).to.equal(401);
  });
});
