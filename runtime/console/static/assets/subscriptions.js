// Per consumer repository: what its .github/zekt.yml subscribes to, its validation errors with
// line and column, and "Sync now" (POST /api/tenant/subscriptions/sync with the CSRF token).
import { api, h, say, start, unavailable, when } from './console.js';
import { consumersOf, providerName, repositoryName } from './subscription-shape.js';

async function load() {
  const res = await api('/api/tenant/subscriptions');
  const list = document.getElementById('list');
  if (res.status === 404) {
    say('status', 'Subscriptions are not available yet.');
    list.replaceChildren(unavailable('Subscriptions'));
    return false;
  }
  if (res.status === 409) return location.assign('/signup');
  if (!res.ok) {
    say('status', 'Zekt could not read the subscriptions just now. Reload to try again.');
    return false;
  }
  const consumers = consumersOf(res.data);
  say('status', consumers.length ? `${consumers.length} consumer repositor${consumers.length === 1 ? 'y' : 'ies'}.` : 'No repository subscribes to anything yet.');
  list.replaceChildren(
    ...consumers.map((c) =>
      h('section', { 'aria-label': repositoryName(c.repository) },
        h('h2', {}, repositoryName(c.repository)),
        h('p', { class: 'help' }, h('code', {}, c.path), c.syncedAt ? ` · synced ${when(c.syncedAt)}` : ''),
        c.errors.length
          ? h('div', { class: 'outcome bad' },
              h('h3', {}, `✖ ${c.errors.length} error${c.errors.length === 1 ? '' : 's'} in ${c.path}`),
              h('ul', {}, c.errors.map((e) => h('li', {}, `line ${e.line ?? '?'}, column ${e.column ?? e.col ?? '?'}: ${e.message ?? ''}`))),
            )
          : null,
        c.entries.length
          ? h('table', {},
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Provider'), h('th', { scope: 'col' }, 'Workflow'), h('th', { scope: 'col' }, 'Conclusions'))),
              h('tbody', {}, c.entries.map((e) =>
                h('tr', {},
                  h('td', { 'data-label': 'Provider' }, providerName(e)),
                  h('td', { 'data-label': 'Workflow' }, Array.isArray(e.workflows) ? e.workflows.join(', ') : e.workflow ?? 'any'),
                  h('td', { 'data-label': 'Conclusions' }, Array.isArray(e.conclusions) ? e.conclusions.join(', ') : 'any'),
                ),
              )),
            )
          : h('p', {}, 'No subscriptions.'),
      ),
    ),
  );
  return true;
}

async function main() {
  const sync = document.getElementById('sync');
  sync.addEventListener('click', async () => {
    sync.disabled = true;
    say('status', 'Syncing…');
    try {
      const res = await api('/api/tenant/subscriptions/sync', { method: 'POST' });
      if (res.status === 404) return say('status', 'Sync is not available yet.');
      if (!res.ok) return say('status', 'Zekt could not start the sync. Try again in a moment.');
      await load();
      say('status', `Synced. ${document.getElementById('status').textContent}`);
    } finally {
      sync.disabled = false;
    }
  });
  await load();
}

start(main);
