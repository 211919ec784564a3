/**
 * The GitHub App manifest asks for the least Zekt needs, and says so: a wider permission, another
 * event or a stray key fails here.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { committedManifest, githubAppManifest, githubRoutes, manifestPlaceholderOrigin } from '../../platform/github-app-manifest.ts';

/** The only permissions Zekt holds; see docs/github-app-permissions.md for why each. */
const expectedPermissions = {
  actions: 'read',
  metadata: 'read',
  contents: 'write',
  single_file: 'read',
  members: 'read',
};

describe('GitHub App manifest', () => {
  it('grants exactly actions:read, metadata:read, contents:write, single_file:read and members:read', () => {
    expect(committedManifest.default_permissions).to.deep.equal(expectedPermissions);
  });
  it('limits single-file access to .github/zekt.yml', () => {
    expect(committedManifest.single_file_paths).to.deep.equal(['.github/zekt.yml']);
  });
  it('subscribes to workflow_run, workflow_job and push only (installation events always arrive)', () => {
    expect([...committedManifest.default_events].sort()).to.deep.equal(['push', 'workflow_job', 'workflow_run']);
  });
  it('has no key beyond the manifest format', async () => {
    const raw = JSON.parse(await readFile(new URL('../../github-app/manifest.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).to.deep.equal(
      [
        'callback_urls', 'default_events', 'default_permissions', 'description', 'hook_attributes', 'name', 'public',
        'redirect_url', 'request_oauth_on_install', 'setup_on_update', 'setup_url', 'single_file_paths', 'url',
      ].sort(),
    );
  });
  it('points GitHub at the platform routes, over https, with an active webhook', () => {
    expect(committedManifest.hook_attributes).to.deep.equal({ url: `${manifestPlaceholderOrigin}${githubRoutes.webhooks}`, active: true });
    expect(committedManifest.callback_urls).to.deep.equal([`${manifestPlaceholderOrigin}${githubRoutes.oauthCallback}`]);
    expect(committedManifest.setup_url).to.equal(`${manifestPlaceholderOrigin}${githubRoutes.setup}`);
    expect(committedManifest.redirect_url).to.match(/^https:\/\//);
  });
  it('binds installations through the setup URL, without OAuth on install', () => {
    expect(committedManifest.request_oauth_on_install).to.equal(false);
    expect(committedManifest.setup_on_update).to.equal(true);
    expect(committedManifest.public).to.equal(true);
  });
  it('keeps permissions and events when rendered for a deployment', () => {
    const rendered = githubAppManifest('https://zekt.acme.io/');
    expect(rendered.default_permissions).to.deep.equal(expectedPermissions);
    expect(rendered.default_events).to.deep.equal(committedManifest.default_events);
    expect(rendered.single_file_paths).to.deep.equal(committedManifest.single_file_paths);
    expect(rendered.hook_attributes.url).to.equal('https://zekt.acme.io/api/github/webhooks');
    expect(JSON.stringify(rendered)).to.not.contain(manifestPlaceholderOrigin);
  });
  it('is explained to customers permission by permission and event by event', async () => {
    const doc = await readFile(new URL('../../docs/github-app-permissions.md', import.meta.url), 'utf8');
    for (const [permission, access] of Object.entries(expectedPermissions)) expect(doc, permission).to.match(new RegExp(`${permission}.*${access}`, 'i'));
    for (const event of committedManifest.default_events) expect(doc, event).to.contain(event);
    expect(doc).to.contain('.github/zekt.yml');
  });
});
