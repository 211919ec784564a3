/**
 * `zekt app create`'s manifest flow end to end against the GitHub double: the local page posts the
 * manifest to the double's `/settings/apps/new`, the double registers the App and redirects to the
 * callback with a code, the code is converted (`POST /app-manifests/{code}/conversions`, checked
 * against GitHub's description), and the secrets land in the local platform vault.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { expect } from 'chai';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { registerGitHubApp, type RegisteredGitHubApp } from '../../local/register-github-app.ts';
import { storeGitHubAppInLocalVault } from '../../local/store-github-app.ts';
import { startResourceManager } from '../../local/resource-manager/start-resource-manager.ts';
import { localVaultClientOptions } from '../../local/start-local-control-plane.ts';
import { createLocalIdentityCredential } from '../../runtime/core/local-identity.ts';
import { platformSecretNames } from '../../runtime/core/secret-store.ts';
import { githubAppManifest } from '../../platform/github-app-manifest.ts';
import { memoryLogger } from '../support/logs.ts';

/** What a browser does with the page: submit its form to GitHub, follow GitHub's redirect. */
async function actAsBrowser(pageUrl: string, tamper?: (location: URL) => void): Promise<Response> {
  const html = await (await fetch(pageUrl)).text();
  const action = /action="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&') ?? '';
  const manifest = (/name="manifest" value="([^"]*)"/.exec(html)?.[1] ?? '').replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  const posted = await fetch(action, { method: 'POST', body: new URLSearchParams({ manifest }), redirect: 'manual' });
  expect(posted.status, await posted.clone().text()).to.equal(302);
  const location = new URL(posted.headers.get('location') ?? '');
  tamper?.(location);
  return fetch(location);
}

describe('GitHub App manifest flow (zekt app create) against the double', () => {
  let double: GitHubDouble;
  const manifest = githubAppManifest('http://127.0.0.1:7071');
  before(async () => {
    double = await startGitHubDouble();
    double.addUser({ login: 'operator', organizations: ['acme-org'] });
  });
  after(() => double.close());

  const register = (options: { org?: string; tamper?: (location: URL) => void; onCallback?: (r: Response) => void } = {}) =>
    registerGitHubApp({
      manifest: { ...manifest, name: `Zekt ${Math.random().toString(36).slice(2, 8)}` },
      webUrl: double.webUrl,
      apiUrl: double.apiUrl,
      ...(options.org ? { org: options.org } : {}),
      timeoutMs: 10_000,
      onReady: (pageUrl) => {
        void actAsBrowser(pageUrl, options.tamper).then((r) => options.onCallback?.(r));
      },
    });

  it('registers the App from the manifest and hands back its credentials; the callback page shows none', async () => {
    let callback: Response | undefined;
    const app = await register({ onCallback: (r) => (callback = r) });
    expect(app.id).to.be.a('number');
    expect(app.clientId).to.match(/^Iv23li/);
    // The PEM header is assembled, so no key-shaped line stands in the repository.
    expect(app.privateKey.startsWith(`-----BEGIN ${'RSA PRIVATE'} KEY-----`)).to.equal(true);
    expect(app.webhookSecret).to.have.length.greaterThan(20);
    await new Promise((r) => setTimeout(r, 50));
    const html = await callback?.text();
    expect(html).to.include(app.slug);
    for (const secret of [app.clientSecret, app.webhookSecret, app.privateKey]) expect(html).not.to.include(secret);
    expect(double.takeSchemaErrors(), 'requests and answers fit GitHub\'s description').to.deep.equal([]);
  });

  it('registers for an organisation with --org: the organisation owns the App', async () => {
    const form = new URLSearchParams({ manifest: JSON.stringify({ ...manifest, name: 'Zekt org', redirect_url: 'http://127.0.0.1:9/callback' }) });
    const posted = await fetch(`${double.webUrl}/organizations/acme-org/settings/apps/new?state=s1`, { method: 'POST', body: form, redirect: 'manual' });
    const location = new URL(posted.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).to.equal('s1');
    const converted = await fetch(`${double.apiUrl}/app-manifests/${location.searchParams.get('code')}/conversions`, { method: 'POST' });
    expect(converted.status).to.equal(201);
    const app = (await converted.json()) as { owner: { login: string }; events: string[]; permissions: Record<string, string> };
    expect(app.owner.login).to.equal('acme-org');
    expect(app.events).to.deep.equal(['workflow_run', 'workflow_job', 'push']);
    expect(app.permissions).to.include({ actions: 'read', contents: 'write', metadata: 'read' });
    const unknownOrg = await fetch(`${double.webUrl}/organizations/nobody/settings/apps/new`, { method: 'POST', body: form, redirect: 'manual' });
    expect(unknownOrg.status).to.equal(404);
  });

  it('refuses a callback whose state is not the one it sent, and converts nothing', async () => {
    let callback: Response | undefined;
    const registration = register({ tamper: (l) => l.searchParams.set('state', 'forged'), onCallback: (r) => (callback = r) }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 1500));
    expect(callback?.status).to.equal(400);
    void registration;
  });

  it('the double converts a code once only, and refuses a bad manifest with 422', async () => {
    let code = '';
    await register({ tamper: (l) => (code = l.searchParams.get('code') ?? '') });
    const again = await fetch(`${double.apiUrl}/app-manifests/${code}/conversions`, { method: 'POST', headers: { accept: 'application/vnd.github+json' } });
    expect(again.status).to.equal(404);
    const bad = await fetch(`${double.webUrl}/settings/apps/new`, { method: 'POST', body: new URLSearchParams({ manifest: '{"name":"x"}' }) });
    expect(bad.status).to.equal(422);
  });

  it('stores the secrets in the local platform vault, where the platform reads them', async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'zekt-app-create-'));
    try {
      const app: RegisteredGitHubApp = await register();
      const { log } = memoryLogger('silent');
      await storeGitHubAppInLocalVault({ stateDir, log }, app);
      const manager = await startResourceManager({ stateDir, port: 0, log });
      try {
        const vault = new SecretClient(manager.platform.vaultUrl, createLocalIdentityCredential(manager.platform.identity), localVaultClientOptions(manager.caCert));
        expect((await vault.getSecret(platformSecretNames.webhookSecret)).value).to.equal(app.webhookSecret);
        expect((await vault.getSecret(platformSecretNames.appPrivateKey)).value).to.equal(app.privateKey);
        expect((await vault.getSecret(platformSecretNames.oauthClientSecret)).value).to.equal(app.clientSecret);
      } finally {
        await manager.stop();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
