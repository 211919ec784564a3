import { expect } from 'chai';
import { apiRequest, appAuth, control, refusal, useGitHubDouble } from './support.ts';

describe('GitHub double: secondary rate limits per installation', () => {
  // The double's clock runs ahead of the real one by `offset` (App JWTs are signed with the real clock).
  let offset = 0;
  const ctx = useGitHubDouble({ now: () => Date.now() + offset });
  let acme: number;
  let globex: number;
  let n = 0;

  // Fresh installations for every test, so no test inherits another's counts.
  beforeEach(() => {
    n += 1;
    acme = ctx.double.addInstallation({ account: `acme-${n}`, repositories: ['deploy'] }).id;
    globex = ctx.double.addInstallation({ account: `globex-${n}`, repositories: ['deploy'] }).id;
    ctx.double.setSecondaryRateBudget({ contentCreatingPerMinute: 80, contentCreatingPerHour: 500, pointsPerMinute: 900 });
  });

  const tokenFor = async (installationId: number) => (await (await appAuth(ctx.double))({ type: 'installation', installationId })).token;
  const dispatch = (token: string, owner: string) =>
    apiRequest(ctx.double, token)('POST /repos/{owner}/{repo}/dispatches', { owner: `${owner}-${n}`, repo: 'deploy', event_type: 'zekt.test' });

  it("starts from GitHub's documented budgets: 80 content-creating requests a minute", async () => {
    expect((await control(ctx.double, 'GET', '/rate-limits')).body).to.deep.equal({ contentCreatingPerMinute: 80, contentCreatingPerHour: 500, pointsPerMinute: 900 });
    const token = await tokenFor(acme);
    for (let i = 0; i < 80; i++) await dispatch(token, 'acme');
    const refused = await refusal(dispatch(token, 'acme'));
    expect(refused.status).to.equal(403);
    expect(refused.data.message).to.match(/^You have exceeded a secondary rate limit/);
  });

  it('answers 403 with retry-after past a lowered budget, counts each installation apart, and allows again once the window passes', async () => {
    const set = await control(ctx.double, 'PUT', '/rate-limits', { contentCreatingPerMinute: 3 });
    expect(set.body).to.deep.include({ contentCreatingPerMinute: 3 });
    const before = ctx.double.dispatches.length;
    const token = await tokenFor(acme);
    for (let i = 0; i < 3; i++) {
      await dispatch(token, 'acme');
      offset += 10_000;
    }
    let retryAfter = '';
    try {
      await dispatch(token, 'acme');
      expect.fail('the fourth dispatch within a minute must be refused');
    } catch (err) {
      const e = err as { status: number; response: { headers: Record<string, string> } };
      expect(e.status).to.equal(403);
      retryAfter = e.response.headers['retry-after'] ?? '';
    }
    // The first dispatch leaves the window 60 s after it was sent: 30 s from now.
    expect(retryAfter).to.equal('30');
    expect(ctx.double.dispatches.length - before, 'refused dispatches are not accepted').to.equal(3);
    const accepted = ctx.double.dispatches.slice(before).map((d) => d.acceptedAt);
    expect(accepted[2]! - accepted[0]!).to.be.within(20_000, 21_000);

    await dispatch(await tokenFor(globex), 'globex');
    offset += 30_000;
    await dispatch(token, 'acme');
    expect(ctx.double.dispatches.length - before).to.equal(5);
  });

  it('holds an hourly content-creating budget, and one installation can get its own budget', async () => {
    ctx.double.setSecondaryRateBudget({ contentCreatingPerHour: 2 }, globex);
    const token = await tokenFor(globex);
    await dispatch(token, 'globex');
    offset += 120_000;
    await dispatch(token, 'globex');
    offset += 120_000;
    expect((await refusal(dispatch(token, 'globex'))).status).to.equal(403);
    await dispatch(await tokenFor(acme), 'acme');
  });

  it('counts points: a GET costs 1 and a POST 5', async () => {
    await control(ctx.double, 'PUT', '/rate-limits', { pointsPerMinute: 11, installationId: acme });
    const token = await tokenFor(acme);
    await dispatch(token, 'acme');
    await dispatch(token, 'acme');
    await apiRequest(ctx.double, token)('GET /installation/repositories');
    const refused = await refusal(apiRequest(ctx.double, token)('GET /installation/repositories'));
    expect(refused.status).to.equal(403);
    expect((await control(ctx.double, 'PUT', '/rate-limits', { pointsPerMinute: 4 })).status, 'a POST would never fit').to.equal(400);
    expect((await control(ctx.double, 'PUT', '/rate-limits', { installationId: 1 })).status).to.equal(404);
  });
});
