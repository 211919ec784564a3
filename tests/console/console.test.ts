/**
 * The console in a real browser (Debian's chromium through playwright-core) against the real local
 * platform — Azurite, the control plane provisioning a real local compartment, the GitHub API
 * double. One platform, one browser, one person (alice) walking through: landing, sign in, sign up
 * (a refused name first), provisioning to ready, install and bind (and a refused and a claimed
 * binding), the data pages, an expired session, an open-redirect attempt, sign out, offboarding.
 * Each step asserts what the page shows.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { consolePages } from '../../runtime/console/console-functions.ts';
import { memoryLogger } from '../support/logs.ts';
import { launchChromium, screenshot, waitForText, waitForValue } from './browser.ts';

describe('console in chromium', function () {
  this.timeout(240_000);
  const logger = memoryLogger('info');
  let platform: LocalPlatform;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let url: (path: string) => string;

  before(async () => {
    [platform, browser] = await Promise.all([
      startLocalPlatform({ env: { ZEKT_PORT: '0', ZEKT_RESOURCE_MANAGER_PORT: '0' }, inMemory: true, log: logger.log }),
      launchChromium(),
    ]);
    url = (path) => `${platform.platformUrl}${path}`;
    const double = platform.githubDouble;
    if (!double) throw new Error('the local platform runs with the GitHub API double');
    double.addUser({ login: 'alice', organizations: ['alice-team'] });
    double.signInAs('alice');
    context = await browser.newContext({ viewport: { width: 960, height: 720 } });
    page = await context.newPage();
    page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log(`page ${page.url()}:\n${await page.locator('main').innerText().catch(() => '')}`);
    for (const l of logger.lines.filter((x) => Number(x.level) >= 40).slice(-10)) console.log(JSON.stringify(l).slice(0, 1500));
  });

  it('serves every page and asset with a strict CSP and no inline script', async () => {
    for (const segment of Object.keys(consolePages)) {
      const res = await page.request.get(url(`/${segment}`));
      expect(res.status(), segment).to.equal(200);
      const csp = res.headers()['content-security-policy'] ?? '';
      expect(csp).to.include("frame-ancestors 'none'").and.include("script-src 'self'").and.not.include('unsafe-inline');
      const html = await res.text();
      expect(html, segment).to.not.match(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(html, segment).to.not.match(/\sstyle=|\son[a-z]+=/);
      for (const asset of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
        expect((await page.request.get(url(asset[1] as string))).status(), asset[1]).to.equal(200);
      }
    }
    expect((await page.request.get(url('/no-such-page'))).status()).to.equal(404);
  });

  it('shows what Zekt does and signs in with GitHub', async () => {
    await page.goto(url('/'));
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).to.equal('Skip to content');
    expect(await page.locator('h1').innerText()).to.equal('Zekt');
    expect(await page.locator('main').innerText()).to.include('delivers it to every repository that subscribed');
    await screenshot(page, 'landing');
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    // No tenant yet: the overview sends a new customer to sign up.
    await page.waitForURL(url('/signup'));
    // The page fills in the suggested name once it has read the session.
    expect(await waitForValue(page, 'Tenant name')).to.equal('alice');
  });

  it('refuses a tenant name the API would refuse, inline, and creates nothing', async () => {
    await page.getByLabel('Tenant name').fill('Alice_Co');
    await page.getByLabel('Contact e-mail').fill('not-an-address');
    // By keyboard: Enter in a field submits the form.
    await page.getByLabel('Contact e-mail').press('Enter');
    expect(await waitForText(page, '#tenant-error', /lowercase/)).to.match(/lowercase letter/);
    expect(await page.locator('#email-error').innerText()).to.include('e-mail address');
    expect(await page.getByLabel('Tenant name').getAttribute('aria-invalid')).to.equal('true');
    await screenshot(page, 'signup-errors');
    expect(await platform.controlPlane?.registry.list()).to.deep.equal([]);
  });

  it('signs up and shows provisioning live until the tenant is ready', async () => {
    await page.getByLabel('Tenant name').fill('alice-co');
    await page.getByLabel('Contact e-mail').fill('alice@example.com');
    await page.getByRole('button', { name: 'Create my tenant' }).click();
    await page.waitForURL(url('/overview'));
    const progress = await waitForText(page, '#progress-text', /resources done/, 120_000);
    expect(progress).to.match(/^\d+ of \d+ resources done/);
    await screenshot(page, 'provisioning');
    expect(await waitForText(page, '#status', /is ready/, 180_000)).to.include('Tenant alice-co is ready');
    expect(await page.getByRole('link', { name: 'Install the Zekt GitHub App' }).isVisible()).to.equal(true);
    await screenshot(page, 'ready');
    // The contact e-mail is kept with the account and never logged.
    expect(logger.raw.join('\n')).to.not.include('alice@example.com');
  });

  it('links to the App installation page and shows a binding as bound', async () => {
    const double = platform.githubDouble!;
    await page.goto(url('/install'));
    await page.locator('#install-link:not([aria-disabled])').waitFor();
    expect(await page.locator('#install-link').innerText()).to.equal('Install Zekt on GitHub');
    expect(await page.locator('#install-link').getAttribute('href')).to.equal(`${double.webUrl}/apps/${double.app.slug}/installations/new`);
    // alice installs the App on GitHub; GitHub sends her browser to the setup URL.
    const installation = double.addInstallation({ account: 'alice', accountType: 'User', repositories: ['provider', 'consumer'] });
    await page.goto(url(`/api/github/setup?installation_id=${installation.id}&setup_action=install`));
    await page.waitForURL(/\/install\?result=bound/);
    expect(await page.locator('#result-title').innerText()).to.include('Installation bound');
    expect(await page.locator('#result-text').innerText()).to.include(`Installation ${installation.id} now belongs to your tenant with 2 repositories`);
    await screenshot(page, 'install-bound');
  });

  it('refuses an installation that is not yours, and one another account claimed', async () => {
    const double = platform.githubDouble!;
    double.addUser({ login: 'mallory' });
    const foreign = double.addInstallation({ account: 'mallory', accountType: 'User', repositories: ['loot'] });
    await page.goto(url(`/api/github/setup?installation_id=${foreign.id}&setup_action=install`));
    await page.waitForURL(/\/install\?result=refused/);
    expect(await page.locator('#result-title').innerText()).to.include('not yours');
    await screenshot(page, 'install-refused');

    // An installation of an organisation alice owns, already bound to another tenant by its other owner.
    const bea = double.addUser({ login: 'bea', organizations: ['alice-team'] });
    double.setOrganizationRole('alice-team', 'alice', 'admin');
    double.setOrganizationRole('alice-team', 'bea', 'admin');
    const claimed = double.addInstallation({ account: 'alice-team', repositories: ['shared'] });
    await platform.parts!.ingress.installations.bind(claimed.id, 'someone-else', { accountLogin: 'alice-team', repositories: [], boundBy: { id: bea.id, login: 'bea' } }, new Date());
    await page.goto(url(`/api/github/setup?installation_id=${claimed.id}&setup_action=install`));
    await page.waitForURL(/\/install\?result=claimed/);
    expect(await page.locator('#result-title').innerText()).to.include('already claimed');
    expect((await platform.parts!.ingress.installations.listForTenant('alice-co')).map((i) => i.installationId)).to.not.include(claimed.id);
  });

  it('lists installations with their repositories', async () => {
    await page.goto(url('/installations'));
    await waitForText(page, '#status', /installation/);
    const rows = await page.locator('tbody tr td:first-child').allInnerTexts();
    expect(rows).to.include.members(['alice/provider', 'alice/consumer']);
    await screenshot(page, 'installations');
    // On a phone-sized screen nothing runs off to the side.
    await page.setViewportSize({ width: 360, height: 720 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).to.be.at.most(360);
    await screenshot(page, 'installations-narrow');
    await page.setViewportSize({ width: 960, height: 720 });
  });

  it('shows subscriptions with their errors, and an event with its deliveries after a provider run; redelivers', async () => {
    const double = platform.githubDouble!;
    const control = (method: string, path: string, body: unknown) =>
      fetch(`${double.controlUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
        if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
        return (await r.json()) as Record<string, unknown>;
      });
    await control('PUT', '/repos/alice/consumer/contents/.github/zekt.yml', { content: 'subscriptions:\n  - provider: alice/provider\n    workflows: [release.yml]\n' });
    // A file that does not validate: its error is shown with line and column.
    await control('PUT', '/repos/alice/provider/contents/.github/zekt.yml', { content: 'publish:\n  consumers: [alice/consumer]\n  colour: red\n' });
    // The commits' push webhooks reach the tenant (that is how it learns of the installation); sync until they did.
    await page.goto(url('/subscriptions'));
    for (let tries = 0; ; tries++) {
      await page.getByRole('button', { name: 'Sync now' }).click();
      if (/consumer repositor/.test(await waitForText(page, '#status', /^Synced\./))) break;
      if (tries > 40) throw new Error('the subscriptions never showed');
      await new Promise((r) => setTimeout(r, 500));
    }
    const consumer = page.getByRole('region', { name: 'alice/consumer' });
    expect(await consumer.locator('tbody tr').first().innerText()).to.match(/alice\/provider\s+release\.yml\s+success/);
    const refused = page.getByRole('region', { name: 'alice/provider' });
    expect(await refused.locator('.outcome.bad').innerText()).to.match(/line 3, column 3: .*colour/);
    await screenshot(page, 'subscriptions');

    // A provider run completes: the consumer is dispatched to, and the event shows it.
    const run = await control('POST', '/repos/alice/provider/runs', { workflow: 'release.yml', headBranch: 'main' });
    await control('POST', `/repos/alice/provider/runs/${String(run.id)}/complete`, { conclusion: 'success' });
    const deadline = Date.now() + 30_000;
    while (!double.dispatches.some((d) => d.repository === 'alice/consumer')) {
      if (Date.now() > deadline) throw new Error('no dispatch reached alice/consumer');
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.goto(url('/events'));
    expect(await waitForText(page, '#status', /^1 event\./)).to.equal('1 event.');
    await page.locator('#timeline summary').first().click();
    const row = page.locator('#timeline tbody tr').first();
    await row.waitFor();
    expect(await row.innerText()).to.match(/alice\/consumer\s+(dispatched|started|completed|unconfirmed)\s+1/);
    await screenshot(page, 'events');
    await page.getByRole('button', { name: 'Redeliver to alice/consumer' }).click();
    expect(await waitForText(page, '#status', /Redeliver/)).to.equal('Redelivery to alice/consumer requested.');
  });

  it('gives the messages URL and copyable workflow snippets', async () => {
    await page.goto(url('/workflows'));
    await waitForText(page, '#status', /Use these values/);
    const record = await platform.controlPlane!.registry.require('alice-co');
    expect(await page.locator('#messages-url').innerText()).to.equal(record.outputs?.messagesUrl);
    expect(await page.locator('#provider-snippet').innerText()).to.include(`endpoint: ${record.outputs?.messagesUrl}`);
    expect(await page.locator('#audience').innerText()).to.equal(`zekt:${record.tenantId}`);
    expect(await page.locator('#consumer-snippet').innerText()).to.include('repository_dispatch');
    await screenshot(page, 'workflows');
  });

  it('sends an expired session to sign in and back to the page it was on', async () => {
    await context.clearCookies({ name: 'zekt_session' });
    await page.goto(url('/installations'));
    await page.waitForURL(url('/installations'));
    await waitForText(page, '#status', /installation/);
    expect(await page.locator('tbody tr td:first-child').allInnerTexts()).to.include('alice/provider');
  });

  it('never follows a return_to to another site', async () => {
    for (const evil of ['//evil.example/steal', 'https://evil.example/', '/\\evil.example']) {
      await page.goto(url(`/api/auth/login?return_to=${encodeURIComponent(evil)}`));
      await page.waitForURL(url('/overview'));
      expect(new URL(page.url()).origin).to.equal(platform.platformUrl);
    }
  });

  it('refuses a state-changing call without the CSRF token and changes nothing', async () => {
    await page.goto(url('/account'));
    const status = await page.evaluate(async () => (await fetch('/api/tenants/me', { method: 'DELETE', body: JSON.stringify({ confirm: 'alice-co' }) })).status);
    expect(status).to.equal(403);
    expect((await platform.controlPlane!.registry.require('alice-co')).status).to.equal('ready');
  });

  it('signs out', async () => {
    await page.goto(url('/account'));
    await waitForText(page, '#login', 'alice');
    expect(await page.locator('#contact').innerText()).to.equal('alice@example.com');
    await screenshot(page, 'account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(url('/'));
    expect(await page.getByRole('link', { name: 'Sign in with GitHub' }).isVisible()).to.equal(true);
    expect((await page.request.get(url('/api/auth/session'))).status()).to.equal(401);
  });

  it('offboards after a typed confirmation and shows the deletion to the end', async () => {
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.waitForURL(url('/overview'));
    await page.goto(url('/account'));
    await page.getByLabel(/Type the tenant name/).fill('alice');
    await page.getByRole('button', { name: 'Delete this tenant' }).click();
    expect(await waitForText(page, '#confirm-error', /exactly/)).to.include('Type alice-co exactly');
    expect((await platform.controlPlane!.registry.require('alice-co')).status).to.equal('ready');
    await page.getByLabel(/Type the tenant name/).fill('alice-co');
    await page.getByRole('button', { name: 'Delete this tenant' }).click();
    await waitForText(page, '#removal-text', /Deleting/);
    await screenshot(page, 'offboarding');
    expect(await waitForText(page, '#removal-text', /deleted/, 180_000)).to.include('Tenant alice-co and its data are deleted');
    expect((await platform.controlPlane!.registry.require('alice-co')).status).to.equal('deleted');
    expect((await page.request.get(url('/api/account'))).status()).to.equal(200);
    expect(((await (await page.request.get(url('/api/account'))).json()) as { contactEmail?: string }).contactEmail).to.equal(undefined);
  });
});
