/**
 * `npm start`: runs Zekt locally — Azurite (data under `.zekt/`), the GitHub API double (unless
 * `GITHUB_API_URL` or an existing App's secrets name a real GitHub), the platform host, the webhook
 * proxy's forwarding (`WEBHOOK_PROXY_URL`), and prints where each listens.
 * On a first start it tells the story of one customer (local/demo/); `--no-demo` skips it.
 * Ctrl-C stops everything cleanly.
 */
import { startLocalPlatform } from '../local/start-local-platform.ts';
import { tellStoryOnce } from '../local/demo/tell-story-once.ts';
import { ConfigError, loadDotEnv, loadLocalSettings } from '../runtime/config.ts';
import { GitHubAppKeyFileError } from '../local/read-existing-github-app.ts';
import { WebhookProxyUnavailableError } from '../local/start-webhook-proxy.ts';

// Settings from the environment, with `.env` (git-ignored) beneath it.
const env = loadDotEnv(process.env);
const platform = await startLocalPlatform({ env }).catch((err: unknown) => {
  // A setting's problem is the operator's to fix: its message names the setting, never its value.
  if (err instanceof ConfigError || err instanceof GitHubAppKeyFileError || err instanceof WebhookProxyUnavailableError) {
    console.error(`Zekt did not start: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
const local = loadLocalSettings(env);
const github = platform.githubDouble;
console.log(`Zekt console: ${platform.platformUrl}/  (sign in there)`);
console.log(`Zekt is running.
  platform     ${platform.platformUrl}   (health: ${platform.platformUrl}/api/health)
  storage      blob ${platform.storage.blob}  queue ${platform.storage.queue}  table ${platform.storage.table}
  tenants      ${
    platform.controlPlane
      ? `local target: resource manager ${platform.controlPlane.manager.url}, platform vault ${platform.controlPlane.manager.platform.vaultUrl}  (npm run zekt -- tenants create acme)`
      : 'azure target (no local control plane)'
  }
  github       ${
    github
      ? `double: API ${github.apiUrl}  web ${github.webUrl}  OIDC ${github.oidcIssuer}  (App ${github.app.slug}, id ${github.app.id})`
      : `${local.github.apiUrl} (${local.githubApp ? `App ${local.githubApp.appId}, its secrets from the environment` : 'the App registered by `zekt app create`'}: docs/real-github.md)`
  }${github ? `\n  control      ${github.controlUrl}   (the GitHub double's control API, this machine only: docs/github-double.md)` : ''}${
    platform.webhookProxy ? `\n  webhooks     forwarded from ${platform.webhookProxy.source} to ${platform.webhookProxy.target}` : ''
  }
Press Ctrl-C to stop.`);

// The first start walks one customer through the whole story with the double's control API.
if (github && !process.argv.includes('--no-demo')) {
  await tellStoryOnce({ stateDir: local.stateDir, platformUrl: platform.platformUrl, doubleControlUrl: github.controlUrl, say: (line) => console.log(line) });
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping Zekt…');
    platform.stop().then(
      () => {
        console.log('Zekt stopped.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error('Zekt did not stop cleanly:', err);
        process.exit(1);
      },
    );
  });
}
