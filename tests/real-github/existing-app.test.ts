/**
 * `npm start` against an existing GitHub App, here the GitHub double started on its own and acting
 * as "a real GitHub" at a configured URL: the App's id, client id, private key file, webhook secret
 * and client secret come from the environment; they land in the local platform vault and are what
 * sign-in, App authentication and webhook verification use. Webhooks arrive through a webhook
 * proxy channel (a local stand-in for smee.io) that `smee-client` forwards to the platform. No
 * secret reaches a log line.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startGitHubDouble, type GitHubDouble } from '../../local/github-double/index.ts';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { existingAppSettings } from '../../local/github-double/existing-app-settings.ts';
import { platformSecretNames } from '../../runtime/core/secret-store.ts';
import { DeliveryNotFoundError } from '../../runtime/ingress/delivery-store.ts';
import { Browser } from '../identity/support.ts';
import { memoryLogger } from '../support/logs.ts';
import { startWebhookChannel, type WebhookChannel } from './support/webhook-channel.ts';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start against an existing GitHub App (the double at a configured URL)', function () {
  this.timeout(120_000);
  let github: GitHubDouble;
  let channel: WebhookChannel;
  let platform: LocalPlatform;
  let dir: string;
  const logger = memoryLogger('debug');

  before(async () => {
    github = await startGitHubDouble();
    github.addUser({ login: 'alice' });
    github.signInAs('alice');
    channel = await startWebhookChannel();
    dir = await mkdtemp(path.join(os.tmpdir(), 'zekt-real-github-'));
    const keyFile = path.join(dir, 'zekt-app.private-key.pem');
    await writeFile(keyFile, github.app.privateKey);
    await chmod(keyFile, 0o600);
    platform = await startLocalPlatform({
      env: {
        ZEKT_PORT: '0',
        ZEKT_RESOURCE_MANAGER_PORT: '0',
        ...existingAppSettings(github, keyFile),
        WEBHOOK_PROXY_URL: channel.url,
      },
      inMemory: true,
      log: logger.log,
    });
    // What the operator set on the App's settings page: the webhook goes to the channel, sign-in
    // comes back to the local platform.
    github.setWebhookUrl(channel.url);
    github.setCallbackUrls([`${platform.platformUrl}/api/auth/callback`]);
  });
  after(async () => {
    await platform?.stop();
    await channel?.close();
    await github?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts no GitHub double of its own and forwards the channel to the webhook route', () => {
    expect(platform.githubDouble).to.equal(undefined);
    expect(platform.webhookProxy).to.deep.equal({ source: channel.url, target: `${platform.platformUrl}/api/github/webhooks` });
    expect(channel.listeners(), 'smee-client listens on the channel').to.equal(1);
  });

  it('puts the App secrets the environment gives into the local platform vault', async () => {
    const vault = platform.controlPlane?.platformVault;
    if (!vault) throw new Error('the local target has a platform vault');
    expect((await vault.getSecret(platformSecretNames.appPrivateKey)).value).to.equal(github.app.privateKey);
    expect((await vault.getSecret(platformSecretNames.webhookSecret)).value).to.equal(github.app.webhookSecret);
    expect((await vault.getSecret(platformSecretNames.oauthClientSecret)).value).to.equal(github.app.clientSecret);
  });

  it('signs a user in through the App (client id and secret checked by GitHub)', async () => {
    const browser = new Browser(platform);
    const landed = await browser.signIn();
    expect(landed.status).to.equal(200);
    expect(browser.cookies.size, 'a session cookie').to.be.greaterThan(0);
  });

  it('authenticates as the App with the private key from the file (GET /app)', async () => {
    const res = await fetch(`${platform.platformUrl}/api/github/app`);
    expect(res.status, await res.clone().text()).to.equal(200);
    const app = (await res.json()) as { installUrl: string };
    expect(app.installUrl).to.include(github.app.slug);
  });

  it('receives a webhook GitHub sends to the channel: verified with the secret and stored', async () => {
    const installation = await github.installApp({ account: 'alice-org', repositories: ['app'] });
    const sent = github.deliveries.at(-1);
    expect(sent?.event).to.equal('installation');
    expect(sent?.url).to.equal(channel.url);
    const deliveries = platform.parts?.ingress.deliveries;
    if (!deliveries || !sent) throw new Error('the platform has its ingress');
    const stored = await until('the delivery to be stored', () => deliveries.get(sent.guid).catch(() => undefined));
    expect(stored).to.include({ event: 'installation', action: 'created', installationId: installation.id, signature: 'sha256' });
    expect(github.takeSchemaErrors()).to.deep.equal([]);
  });

  it('refuses a delivery on the channel whose signature does not match (401), storing nothing', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ action: 'created', installation: { id: 1 } });
    const posted = await fetch(channel.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'installation', 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body,
    });
    expect(posted.status).to.equal(200);
    await until('the proxy to forward it', async () => (logger.lines.some((l) => String(l.msg).endsWith('/api/github/webhooks - 401')) ? true : undefined));
    const deliveries = platform.parts?.ingress.deliveries;
    let missing: unknown;
    await deliveries?.get(id).catch((err: unknown) => (missing = err));
    expect(missing).to.be.instanceOf(DeliveryNotFoundError);
  });

  it('logs none of the App secrets', () => {
    const text = logger.raw.join('');
    expect(text).to.include('webhook-proxy');
    const keyLine = github.app.privateKey.split('\n')[1] as string;
    for (const [name, secret] of [['webhook secret', github.app.webhookSecret], ['client secret', github.app.clientSecret], ['private key', keyLine]] as const) {
      expect(text.includes(secret), `${name} in the log`).to.equal(false);
    }
  });
});
