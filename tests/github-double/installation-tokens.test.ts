import { expect } from 'chai';
import { apiRequest, appAuth, refusal, useGitHubDouble } from './support.ts';

describe('GitHub double: installation tokens and their scope', () => {
  let clock = Date.now();
  const ctx = useGitHubDouble({ now: () => clock });
  let installationId: number;

  before(() => {
    installationId = ctx.double.addInstallation({
      account: 'acme',
      repositories: [
        { name: 'provider', files: { '.github/zekt.yml': 'version: 1\n', 'src/index.ts': 'export {};\n' } },
        { name: 'consumer' },
      ],
      permissions: { actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' },
      singleFilePaths: ['.github/zekt.yml'],
    }).id;
  });
  beforeEach(() => {
    clock = Date.now();
  });

  const mint = (options: { repositoryNames?: string[]; repositoryIds?: number[]; permissions?: Record<string, string> } = {}) =>
    appAuth(ctx.double)({ type: 'installation', installationId, refresh: true, ...options }).then((a) => a as unknown as {
      token: string;
      permissions: Record<string, string>;
      repositorySelection: string;
      expiresAt: string;
    });
  const dispatch = (token: string, repo: string) =>
    apiRequest(ctx.double, token)('POST /repos/{owner}/{repo}/dispatches', { owner: 'acme', repo, event_type: 'zekt.run' });
  const read = (token: string, repo: string, path: string) =>
    apiRequest(ctx.double, token)('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo, path });

  it('mints a ghs_ token valid for one hour with the installation\'s permissions', async () => {
    const auth = await mint();
    expect(auth.token).to.match(/^ghs_[A-Za-z0-9]{36}$/);
    expect(Date.parse(auth.expiresAt) - clock).to.be.within(59 * 60 * 1000, 60 * 60 * 1000);
    expect(auth.permissions).to.deep.equal({ actions: 'read', contents: 'write', metadata: 'read', single_file: 'read' });
    const repos = await apiRequest(ctx.double, auth.token)('GET /installation/repositories');
    expect(repos.data.repositories.map((r) => r.full_name)).to.deep.equal(['acme/provider', 'acme/consumer']);
  });

  it('limits a token for repository A to A: B answers 404', async () => {
    const { token } = await mint({ repositoryNames: ['provider'] });
    expect((await dispatch(token, 'provider')).status).to.equal(204);
    const { status, data } = await refusal(dispatch(token, 'consumer'));
    expect(status).to.equal(404);
    expect(data.message).to.equal('Not Found');
    const repos = await apiRequest(ctx.double, token)('GET /installation/repositories');
    expect(repos.data.repositories.map((r) => r.name)).to.deep.equal(['provider']);
  });

  it('honours repository_ids as well as names', async () => {
    const consumer = (await apiRequest(ctx.double, (await mint()).token)('GET /installation/repositories')).data.repositories[1];
    const { token } = await mint({ repositoryIds: [consumer?.id as number] });
    expect((await refusal(dispatch(token, 'provider'))).status).to.equal(404);
    expect((await dispatch(token, 'consumer')).status).to.equal(204);
  });

  it('refuses a permission the token was not given: 403 Resource not accessible by integration', async () => {
    const { token, permissions } = await mint({ permissions: { contents: 'read' } });
    expect(permissions).to.deep.equal({ metadata: 'read', contents: 'read' });
    expect((await read(token, 'provider', 'src/index.ts')).status).to.equal(200);
    const { status, data } = await refusal(dispatch(token, 'provider'));
    expect(status).to.equal(403);
    expect(data.message).to.equal('Resource not accessible by integration');
  });

  it('lets single_file:read read only the configured file', async () => {
    const { token } = await mint({ permissions: { single_file: 'read' } });
    const file = await read(token, 'provider', '.github/zekt.yml');
    expect(Buffer.from((file.data as { content: string }).content, 'base64').toString()).to.equal('version: 1\n');
    expect((await refusal(read(token, 'provider', 'src/index.ts'))).status).to.equal(403);
  });

  it('refuses to mint beyond the installation: 422 for a permission it lacks or a repository outside it', async () => {
    const lacking = await refusal(mint({ permissions: { issues: 'write' } }));
    expect(lacking.status).to.equal(422);
    expect(lacking.data.message).to.equal('The permissions requested are not granted to this installation.');
    const higher = await refusal(mint({ permissions: { actions: 'write' } }));
    expect(higher.status).to.equal(422);
    ctx.double.addRepository({ fullName: 'acme/secret' });
    const outside = await refusal(mint({ repositoryNames: ['secret'] }));
    expect(outside.status).to.equal(422);
    expect(outside.data.message).to.match(/not accessible to the parent installation/);
  });

  it('returns file contents base64-encoded, as GitHub does', async () => {
    const { token } = await mint();
    const file = await read(token, 'provider', '.github/zekt.yml');
    expect(file.data).to.include({ type: 'file', encoding: 'base64', path: '.github/zekt.yml', name: 'zekt.yml', size: 11 });
    expect((await refusal(read(token, 'provider', 'missing.txt'))).status).to.equal(404);
  });

  it('records each dispatch with repository, event type, payload and the token used', async () => {
    const { token } = await mint({ repositoryNames: ['consumer'], permissions: { contents: 'write' } });
    await apiRequest(ctx.double, token)('POST /repos/{owner}/{repo}/dispatches', {
      owner: 'acme',
      repo: 'consumer',
      event_type: 'zekt.provider.completed',
      client_payload: { run_id: 42, conclusion: 'success' },
    });
    expect(ctx.double.dispatches.at(-1)).to.include({
      repository: 'acme/consumer',
      eventType: 'zekt.provider.completed',
      token,
      installationId,
    });
    expect(ctx.double.dispatches.at(-1)?.clientPayload).to.deep.equal({ run_id: 42, conclusion: 'success' });
  });

  it('expires tokens after one hour: Bad credentials', async () => {
    const { token } = await mint();
    clock += 60 * 60 * 1000 + 1;
    const { status, data } = await refusal(dispatch(token, 'provider'));
    expect(status).to.equal(401);
    expect(data.message).to.equal('Bad credentials');
  });

  it('refuses tokens for a suspended installation (403)', async () => {
    ctx.double.setInstallationSuspended(installationId, true);
    try {
      expect((await refusal(mint())).status).to.equal(403);
    } finally {
      ctx.double.setInstallationSuspended(installationId, false);
    }
  });

  it('does not accept an installation token on a user endpoint (403)', async () => {
    const { token } = await mint();
    expect((await refusal(apiRequest(ctx.double, token)('GET /user/installations'))).status).to.equal(403);
  });
});
