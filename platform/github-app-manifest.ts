/**
 * The GitHub App manifest (`github-app/manifest.json`), with its placeholder origin replaced by the
 * platform's public base URL, ready for GitHub's manifest flow:
 * https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
 */
import manifest from '../github-app/manifest.json' with { type: 'json' };

export interface GitHubAppManifest {
  readonly name: string;
  readonly url: string;
  readonly description: string;
  readonly public: boolean;
  readonly hook_attributes: { readonly url: string; readonly active: boolean };
  readonly redirect_url: string;
  readonly callback_urls: readonly string[];
  readonly setup_url: string;
  readonly setup_on_update: boolean;
  readonly request_oauth_on_install: boolean;
  readonly default_permissions: Readonly<Record<string, 'read' | 'write'>>;
  readonly single_file_paths: readonly string[];
  readonly default_events: readonly string[];
}

/** The origin the committed manifest uses in place of a real deployment's. */
export const manifestPlaceholderOrigin = 'https://zekt.example.com';

/** Platform routes GitHub is pointed at (the ingress function table serves them). */
export const githubRoutes = {
  webhooks: '/api/github/webhooks',
  oauthCallback: '/api/auth/callback',
  setup: '/api/github/setup',
} as const;

export const committedManifest = manifest as GitHubAppManifest;

export function githubAppManifest(baseUrl: string): GitHubAppManifest {
  const origin = baseUrl.replace(/\/$/, '');
  const at = (url: string): string => (url.startsWith(manifestPlaceholderOrigin) ? origin + url.slice(manifestPlaceholderOrigin.length) : url);
  return {
    ...committedManifest,
    url: at(committedManifest.url),
    hook_attributes: { ...committedManifest.hook_attributes, url: at(committedManifest.hook_attributes.url) },
    redirect_url: at(committedManifest.redirect_url),
    callback_urls: committedManifest.callback_urls.map(at),
    setup_url: at(committedManifest.setup_url),
  };
}
