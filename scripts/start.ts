/**
 * `npm start`: runs Zekt locally — Azurite (data under `.zekt/`), the GitHub API double (unless
 * `GITHUB_API_URL` names a real GitHub), the platform host, and prints where each listens.
 * On a first start it tells the story of one customer (local/demo/); `--no-demo` skips it.
 * Ctrl-C stops everything cleanly.
 */
import { startLocalPlatform } from '../local/start-local-platform.ts';
import { tellStoryOnce } from '../local/demo/tell-story-once.ts';
import { loadDotEnv, loadLocalSettings } from '../runtime/config.ts';

// Settings from the environment, with `.env` (git-ignored) beneath it.
const env = loadDotEnv(process.env);
const platform = await startLocalPlatform({ env });
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
      : 'the GitHub configured by GITHUB_API_URL'
  }${github ? `\n  control      ${github.controlUrl}   (the GitHub double's control API, this machine only: docs/github-double.md)` : ''}
Press Ctrl-C to stop.`);

// The first start walks one customer through the whole story with the double's control API.
if (github && !process.argv.includes('--no-demo')) {
  await tellStoryOnce({ stateDir: loadLocalSettings(env).stateDir, platformUrl: platform.platformUrl, doubleControlUrl: github.controlUrl, say: (line) => console.log(line) });
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
