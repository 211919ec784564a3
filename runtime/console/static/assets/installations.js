// Installations bound to the tenant (GET /api/installations) and their repositories, each marked
// provider and/or consumer from the subscriptions (GET /api/tenant/subscriptions) once served.
import { api, h, say, start } from './console.js';
import { consumersOf, providerName, repositoryName } from './subscription-shape.js';

async function main() {
  const res = await api('/api/installations');
  if (res.status === 409) return location.assign('/signup');
  if (!res.ok) return say('status', 'Zekt could not list your installations just now. Reload to try again.');
  const installations = res.data.installations ?? [];
  if (installations.length === 0) {
    say('status', 'No installation is bound to your tenant yet.');
    document.getElementById('list').replaceChildren(h('p', {}, h('a', { href: '/install' }, 'Install the Zekt GitHub App'), ' to bind one.'));
    return;
  }
  const subs = await api('/api/tenant/subscriptions');
  const consumers = new Set();
  const providers = new Set();
  if (subs.ok) {
    for (const consumer of consumersOf(subs.data)) {
      consumers.add(repositoryName(consumer.repository));
      for (const entry of consumer.entries) providers.add(providerName(entry));
    }
  }
  const role = (name) => {
    if (!subs.ok) return 'unknown until subscriptions are served';
    const roles = [providers.has(name) && 'provider', consumers.has(name) && 'consumer'].filter(Boolean);
    return roles.length ? roles.join(' and ') : 'neither yet';
  };
  say('status', `${installations.length} installation${installations.length === 1 ? '' : 's'} bound to your tenant.`);
  document.getElementById('list').replaceChildren(
    ...installations.map((i) =>
      h('section', { 'aria-label': `Installation on ${i.account ?? i.installationId}` },
        h('h2', {}, `${i.account ?? 'Installation'} `, h('small', {}, `(${i.accountType ?? 'account'}, installation ${i.installationId})`)),
        i.suspended ? h('p', { class: 'state bad' }, 'Suspended on GitHub: Zekt cannot act on these repositories.') : null,
        h('table', {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Repository'), h('th', { scope: 'col' }, 'Role'))),
          h('tbody', {}, (i.repositories ?? []).map((r) =>
            h('tr', {}, h('td', { 'data-label': 'Repository' }, r.fullName), h('td', { 'data-label': 'Role' }, role(r.fullName))),
          )),
        ),
      ),
    ),
  );
}

start(main);
