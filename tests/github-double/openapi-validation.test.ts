import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { applyOpenApiErrata, openApiErrata } from '../../local/github-double/openapi-errata.ts';
import type { JsonObject } from '../../local/github-double/json.ts';
import { createOpenApiValidator, restDescriptionPath, type MatchedOperation } from '../../local/github-double/openapi-validator.ts';
import { startGitHubDouble } from '../../local/github-double/start-github-double.ts';
import { apiRequest, appAuth, refusal, useGitHubDouble } from './support.ts';

// Untyped on purpose: these calls break the parameters @octokit/request's types would enforce.
const dispatchRoute: string = 'POST /repos/{owner}/{repo}/dispatches';

describe("GitHub double: requests checked against GitHub's REST description", () => {
  const ctx = useGitHubDouble();
  let token: string;

  before(async () => {
    const installation = ctx.double.addInstallation({ account: 'schema-org', repositories: ['provider'] });
    token = (await appAuth(ctx.double)({ type: 'installation', installationId: installation.id })).token;
  });
  beforeEach(() => ctx.double.takeSchemaErrors());

  it("lists the App's installations on users and organisations, each valid against the description", async () => {
    const user = ctx.double.addUser({ login: 'solo-dev' });
    const own = ctx.double.addInstallation({ account: user.login, repositories: ['tool'] });
    const { token: jwt } = await appAuth(ctx.double)({ type: 'app' });
    const api = apiRequest(ctx.double).defaults({ headers: { authorization: `bearer ${jwt}` } });
    const list = await api('GET /app/installations');
    expect(list.data.map((i) => i.target_type)).to.include.members(['User', 'Organization']);
    const one = await api('GET /app/installations/{installation_id}', { installation_id: own.id });
    expect(one.data).to.include({ id: own.id, target_type: 'User', repository_selection: 'selected', app_slug: ctx.double.app.slug });
    expect(ctx.double.schemaErrors).to.deep.equal([]);
  });

  it('answers a dispatch without event_type with 422 and records the schema error', async () => {
    const { status, data } = await refusal(
      apiRequest(ctx.double, token)(dispatchRoute, { owner: 'schema-org', repo: 'provider', client_payload: {} }),
    );
    expect(status).to.equal(422);
    expect(data.message).to.equal('Invalid request.\n\n"event_type" wasn\'t supplied.');
    expect(data.documentation_url).to.equal('https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event');
    expect(ctx.double.dispatches).to.have.length(0);
    expect(ctx.double.schemaErrors).to.deep.equal([
      {
        kind: 'invalid-request',
        endpoint: 'POST /repos/{owner}/{repo}/dispatches',
        operationId: 'repos/create-dispatch-event',
        problems: ['"event_type" wasn\'t supplied.'],
      },
    ]);
  });

  it('answers a field of the wrong type with 422', async () => {
    const { status, data } = await refusal(
      apiRequest(ctx.double, token)(dispatchRoute, {
        owner: 'schema-org',
        repo: 'provider',
        event_type: 'x',
        client_payload: 'not an object',
      }),
    );
    expect(status).to.equal(422);
    expect(data.message).to.include(`For 'properties/client_payload', "not an object" is not an object.`);
    expect(ctx.double.schemaErrors).to.have.length(1);
  });

  it('answers an endpoint GitHub does not have with 404 and records it', async () => {
    const { status, data } = await refusal(apiRequest(ctx.double, token)('GET /repos/{owner}/{repo}/zekt-config', { owner: 'a', repo: 'b' }));
    expect(status).to.equal(404);
    expect(data.message).to.equal('Not Found');
    expect(ctx.double.schemaErrors.map((e) => e.kind)).to.deep.equal(['unknown-endpoint']);
    expect(ctx.double.schemaErrors[0]?.endpoint).to.equal('GET /repos/a/b/zekt-config');
  });

  it('answers a method the path does not have with 404', async () => {
    expect((await refusal(apiRequest(ctx.double, token)('DELETE /installation/repositories'))).status).to.equal(404);
    expect(ctx.double.schemaErrors.map((e) => e.kind)).to.deep.equal(['unknown-endpoint']);
  });

  it('answers a real GitHub endpoint the double does not implement with 501, and records it', async () => {
    const { status } = await refusal(apiRequest(ctx.double, token)('GET /repos/{owner}/{repo}/issues', { owner: 'schema-org', repo: 'provider' }));
    expect(status).to.equal(501);
    expect(ctx.double.schemaErrors.map((e) => e.kind)).to.deep.equal(['unimplemented']);
  });

  it('answers a body that is not JSON with 400 Problems parsing JSON', async () => {
    const res = await fetch(`${ctx.double.apiUrl}/repos/schema-org/provider/dispatches`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: '{"event_type":',
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { message: string }).message).to.equal('Problems parsing JSON');
  });

  it('sends the rate-limit headers on every API response, successes and refusals alike', async () => {
    const names = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-used', 'x-ratelimit-resource'];
    for (const res of [
      await fetch(`${ctx.double.apiUrl}/installation/repositories`, { headers: { authorization: `token ${token}` } }),
      await fetch(`${ctx.double.apiUrl}/installation/repositories`),
      await fetch(`${ctx.double.apiUrl}/nothing-here`),
    ]) {
      for (const name of names) expect(res.headers.get(name), `${name} on a ${res.status}`).to.be.a('string');
    }
    const ok = await apiRequest(ctx.double, token)('GET /installation/repositories');
    expect(ok.headers['x-ratelimit-limit']).to.equal('5000');
    expect(ok.headers['x-ratelimit-resource']).to.equal('core');
    const remaining = Number(ok.headers['x-ratelimit-remaining']);
    const again = await apiRequest(ctx.double, token)('GET /installation/repositories');
    expect(Number(again.headers['x-ratelimit-remaining'])).to.equal(remaining - 1);
    expect(Number(again.headers['x-ratelimit-used'])).to.equal(5000 - remaining + 1);
    expect(Number(again.headers['x-ratelimit-reset'])).to.be.greaterThan(Date.now() / 1000);
    // Unauthenticated requests have their own, smaller budget.
    const anonymous = await fetch(`${ctx.double.apiUrl}/installation/repositories`);
    expect(anonymous.headers.get('x-ratelimit-limit')).to.equal('60');
  });
});

describe('GitHub double: rate limit exhaustion', () => {
  it('answers 403 with x-ratelimit-remaining 0 once the hourly budget is spent', async () => {
    const double = await startGitHubDouble({ rateLimitPerHour: 2 });
    try {
      const installation = double.addInstallation({ account: 'busy', repositories: ['r'] });
      const { token } = await appAuth(double)({ type: 'installation', installationId: installation.id });
      await apiRequest(double, token)('GET /installation/repositories');
      await apiRequest(double, token)('GET /installation/repositories');
      const res = await fetch(`${double.apiUrl}/installation/repositories`, { headers: { authorization: `token ${token}` } });
      expect(res.status).to.equal(403);
      expect(res.headers.get('x-ratelimit-remaining')).to.equal('0');
      expect(((await res.json()) as { message: string }).message).to.equal(`API rate limit exceeded for installation ID ${installation.id}.`);
    } finally {
      await double.close();
    }
  });
});

describe('OpenAPI validator', () => {
  let validator: Awaited<ReturnType<typeof createOpenApiValidator>>;
  const operation = (method: string, path: string): MatchedOperation => {
    const match = validator.match(method, path);
    if (match.kind !== 'operation') throw new Error(`${method} ${path} did not match`);
    return match.operation;
  };
  before(async () => {
    validator = await createOpenApiValidator();
  });

  it('prefers literal segments over parameters, and lets {path} span slashes', () => {
    expect(operation('GET', '/user/installations').operationId).to.equal('apps/list-installations-for-authenticated-user');
    expect(operation('GET', '/user/12').operationId).to.equal('users/get-by-id');
    const content = operation('GET', '/repos/o/r/contents/.github/zekt.yml');
    expect(content.pathParams).to.deep.equal({ owner: 'o', repo: 'r', path: '.github/zekt.yml' });
  });

  it('finds the route whatever the shape of the path: trailing slash, a parameter last, a segment mixing text and parameters', () => {
    expect(operation('POST', '/repos/acme/app/dispatches/').operationId).to.equal('repos/create-dispatch-event');
    expect(operation('GET', '/repos/acme/app/actions/runs/42').pathParams).to.deep.equal({ owner: 'acme', repo: 'app', run_id: '42' });
    expect(operation('GET', '/repos/acme/app/compare/main...topic').pathParams).to.deep.equal({ owner: 'acme', repo: 'app', base: 'main', head: 'topic' });
    expect(validator.match('GET', '/repos/acme/app/no-such-thing')).to.deep.equal({ kind: 'unknown-path' });
    expect(validator.match('GET', '/repos/acme/app/dispatches')).to.deep.equal({ kind: 'method-not-allowed', template: '/repos/{owner}/{repo}/dispatches' });
    expect(validator.match('GET', '/')).to.have.property('kind', 'operation');
  });

  it('finds a response that would break the description (a double bug) and accepts a valid one', () => {
    const token = operation('POST', '/app/installations/1/access_tokens');
    expect(validator.checkResponse(token, 201, 'application/json', { token: 'ghs_x', expires_at: '2030-01-01T00:00:00Z' }).problems).to.deep.equal([]);
    const broken = validator.checkResponse(token, 201, 'application/json', { expires_at: 7 });
    expect(broken.problems.join('\n')).to.match(/token/).and.to.match(/expires_at/);
    expect(validator.checkResponse(token, 418, 'application/json', {}).problems).to.have.length(1);
  });

  it('reads OpenAPI 3.0 nullable fields as accepting null', () => {
    const delivery = operation('GET', '/app/hook/deliveries');
    const item = {
      id: 1, guid: 'g', delivered_at: '2024-01-01T00:00:00Z', redelivery: false, duration: 0.1, status: 'OK',
      status_code: 200, event: 'ping', action: null, installation_id: null, repository_id: null,
    };
    expect(validator.checkResponse(delivery, 200, 'application/json', [item]).problems).to.deep.equal([]);
    expect(validator.checkResponse(delivery, 200, 'application/json', [{ ...item, status_code: null }]).problems).to.have.length(1);
  });

  it("still needs each erratum of GitHub's description (delete an erratum once GitHub fixes it)", async () => {
    const document = JSON.parse(await readFile(restDescriptionPath, 'utf8')) as JsonObject;
    expect(applyOpenApiErrata(document)).to.have.length(openApiErrata.length);
  });

  it('coerces query parameters to their declared types and refuses values outside enums', () => {
    const list = operation('GET', '/app/hook/deliveries');
    const good = validator.checkRequest(list, { query: new URLSearchParams('per_page=5&status=failure'), body: undefined });
    expect(good.params).to.deep.equal({ per_page: 5, status: 'failure' });
    const bad = validator.checkRequest(list, { query: new URLSearchParams('status=sometimes'), body: undefined });
    expect(bad.problems).to.have.length(1);
  });
});
