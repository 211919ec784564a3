/**
 * The settings that name an existing GitHub App for a local run: all of the App's credentials or
 * none, read from the environment or `.env`, problems named without their values; the private key
 * file is checked before anything starts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadDotEnv, loadLocalSettings } from '../../runtime/config.ts';
import { GitHubAppKeyFileError, readExistingGitHubApp } from '../../local/read-existing-github-app.ts';
import { startLocalPlatform } from '../../local/start-local-platform.ts';
import { memoryLogger } from '../support/logs.ts';

const webhookSecret = `whsec-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const clientSecret = `client-${Math.random().toString(36).slice(2)}-${Date.now()}`;

describe('settings of an existing GitHub App (local runs)', () => {
  let dir: string;
  let keyFile: string;
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'zekt-app-settings-'));
    keyFile = path.join(dir, 'app.pem');
    await writeFile(keyFile, privateKey);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const complete = () => ({
    GITHUB_APP_ID: '4242',
    GITHUB_APP_CLIENT_ID: 'Iv23liExistingApp',
    GITHUB_APP_PRIVATE_KEY_PATH: keyFile,
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    GITHUB_APP_CLIENT_SECRET: clientSecret,
  });

  it('reads all five together', () => {
    expect(loadLocalSettings(complete()).githubApp).to.deep.equal({ appId: '4242', clientId: 'Iv23liExistingApp', privateKeyPath: keyFile, webhookSecret, clientSecret });
  });

  it('without any of the secret ones there is no existing App (the vault keeps what `zekt app create` stored)', () => {
    expect(loadLocalSettings({ GITHUB_APP_ID: '4242', GITHUB_APP_CLIENT_ID: 'Iv23liExistingApp' }).githubApp).to.equal(undefined);
  });

  it('names each missing setting, and never a value', () => {
    const { GITHUB_APP_CLIENT_SECRET: _omitted, GITHUB_APP_ID: _id, ...partial } = complete();
    let error: unknown;
    try {
      loadLocalSettings(partial);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).to.deep.equal(['GITHUB_APP_ID', 'GITHUB_APP_CLIENT_SECRET']);
    expect(message).not.to.include(webhookSecret);
  });

  it('refuses a short secret and a non-numeric App id, naming the settings only', () => {
    expect(() => loadLocalSettings({ ...complete(), GITHUB_WEBHOOK_SECRET: 'short', GITHUB_APP_ID: 'my-app' }))
      .to.throw(ConfigError)
      .that.satisfies((err: ConfigError) => err.problems.length === 2 && !err.message.includes('short'));
  });

  it('takes them from .env beneath the environment (the environment wins)', async () => {
    const file = path.join(dir, '.env');
    await writeFile(file, Object.entries(complete()).map(([k, v]) => `${k}=${v}`).join('\n'));
    const app = loadLocalSettings(loadDotEnv({ GITHUB_APP_ID: '777' }, file)).githubApp;
    expect(app).to.include({ appId: '777', webhookSecret, clientSecret, privateKeyPath: keyFile });
  });

  it('reads the key file and checks it holds a private key, without quoting it', async () => {
    const settings = loadLocalSettings(complete()).githubApp;
    if (!settings) throw new Error('complete settings');
    expect((await readExistingGitHubApp(settings)).privateKey).to.equal(privateKey);
    const notAKey = path.join(dir, 'not-a-key.pem');
    await writeFile(notAKey, 'not a key, just some text in a .pem file');
    let error: unknown;
    await readExistingGitHubApp({ ...settings, privateKeyPath: notAKey }).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(GitHubAppKeyFileError);
    expect((error as Error).message).to.include('GITHUB_APP_PRIVATE_KEY_PATH').and.not.include('just some text');
    expect((error as Error).cause).to.equal(undefined);
  });

  it('npm start stops at once on a missing key file, before anything listens', async () => {
    let error: unknown;
    await startLocalPlatform({ env: { ...complete(), GITHUB_APP_PRIVATE_KEY_PATH: path.join(dir, 'missing.pem'), ZEKT_PORT: '0', ZEKT_LOG_LEVEL: 'silent' }, inMemory: true }).catch(
      (err: unknown) => (error = err),
    );
    expect(error).to.be.instanceOf(GitHubAppKeyFileError);
    expect((error as Error).message).to.match(/^GITHUB_APP_PRIVATE_KEY_PATH: cannot read .*missing\.pem$/);
  });
});

describe('the webhook proxy channel (WEBHOOK_PROXY_URL)', () => {
  it('fails start-up with a named error when the channel does not answer', async () => {
    const { startWebhookProxy, WebhookProxyUnavailableError } = await import('../../local/start-webhook-proxy.ts');
    const { freePort } = await import('../../local/free-port.ts');
    const closed = `http://127.0.0.1:${await freePort('127.0.0.1')}/channel`;
    const logger = memoryLogger('info');
    let error: unknown;
    await startWebhookProxy({ source: closed, target: 'http://127.0.0.1:9/api/github/webhooks', connectTimeoutMs: 2000, log: logger.log }).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(WebhookProxyUnavailableError);
  });
});
