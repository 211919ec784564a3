/**
 * `zekt app create [--org <org>]`: registers the Zekt GitHub App from `github-app/manifest.json`
 * through GitHub's manifest flow (local/register-github-app.ts) — the manifest's URLs point at
 * `ZEKT_PUBLIC_URL` (the local platform by default), its webhook at `WEBHOOK_PROXY_URL` when set —
 * puts its secrets into the local platform vault and prints the settings for `.env` that are not
 * secret. The secrets are never printed.
 */
import { Command } from 'commander';
import { githubAppManifest, githubRoutes } from '../../platform/github-app-manifest.ts';
import { registerGitHubApp } from '../../local/register-github-app.ts';
import { storeGitHubAppInLocalVault } from '../../local/store-github-app.ts';
import type { Logger } from '../../runtime/core/logger.ts';

export interface AppCommandDeps {
  readonly settings: () => { stateDir: string; host: string; publicUrl: string; webUrl: string; apiUrl: string; webhookProxyUrl?: string };
  readonly log: Logger;
  readonly out: (line: string) => void;
}

export function appCommand(deps: AppCommandDeps): Command {
  const app = new Command('app').description('the Zekt GitHub App');
  app
    .command('create')
    .description("register the GitHub App from github-app/manifest.json through GitHub's manifest flow; its secrets go into the local vault")
    .option('--org <org>', 'register it for this organisation instead of your user')
    .action(async (opts: { org?: string }) => {
      const s = deps.settings();
      const rendered = githubAppManifest(s.publicUrl);
      const manifest = s.webhookProxyUrl ? { ...rendered, hook_attributes: { ...rendered.hook_attributes, url: s.webhookProxyUrl } } : rendered;
      const registered = await registerGitHubApp({
        manifest,
        webUrl: s.webUrl,
        apiUrl: s.apiUrl,
        host: s.host,
        ...(opts.org ? { org: opts.org } : {}),
        onReady: (pageUrl) => deps.out(`Open ${pageUrl} in a browser signed in to GitHub, and confirm the App there.`),
      });
      await storeGitHubAppInLocalVault({ stateDir: s.stateDir, host: s.host, log: deps.log }, registered);
      deps.out(`Registered ${registered.htmlUrl} (webhooks to ${manifest.hook_attributes.url}; callback ${s.publicUrl}${githubRoutes.oauthCallback}).`);
      deps.out('Its webhook secret, private key and client secret are in the local platform vault. Add to .env:');
      deps.out(`GITHUB_APP_ID=${registered.id}`);
      deps.out(`GITHUB_APP_CLIENT_ID=${registered.clientId}`);
      deps.out(`GITHUB_API_URL=${s.apiUrl}`);
      deps.out(`GITHUB_WEB_URL=${s.webUrl}`);
    });
  return app;
}
