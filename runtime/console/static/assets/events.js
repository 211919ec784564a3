// The timeline of provider runs that became events (GET /api/tenant/events). Each opens to its
// deliveries (GET /api/tenant/events/{id}): consumer, status, attempts, last error, the consumer run
// it started (a link to GitHub, and its conclusion), the messages referenced — name, size, digest,
// expiry, never a body — and "Redeliver" (POST /api/tenant/deliveries/{id}/redeliver, with CSRF).
import { api, bytes, h, say, start, unavailable, when } from './console.js';
import { repositoryName } from './subscription-shape.js';

function messageList(messages) {
  if (!messages?.length) return h('p', {}, 'No messages.');
  return h('ul', {}, messages.map((m) =>
    h('li', {},
      h('strong', {}, m.name ?? m.id), ` · ${bytes(m.size)} · sha-256 `, h('code', {}, m.sha256 ?? ''), ` · expires ${when(m.expires_at ?? m.expiresAt)}`,
    ),
  ));
}

function deliveryRow(delivery, onRedeliver) {
  const run = delivery.linked_run ?? delivery.consumerRun;
  const button = h('button', { type: 'button', class: 'secondary' }, 'Redeliver');
  button.setAttribute('aria-label', `Redeliver to ${repositoryName(delivery.consumer)}`);
  button.addEventListener('click', () => onRedeliver(delivery, button));
  return h('tr', {},
    h('td', { 'data-label': 'Consumer' }, repositoryName(delivery.consumer)),
    h('td', { 'data-label': 'Status' }, h('span', { class: `state ${delivery.status === 'dead' || delivery.status === 'unconfirmed' ? 'bad' : delivery.status === 'completed' ? 'ok' : 'wait'}` }, delivery.status ?? '')),
    h('td', { 'data-label': 'Attempts' }, String(delivery.attempts ?? 0)),
    h('td', { 'data-label': 'Last error' }, delivery.last_error ?? delivery.lastError ?? '—'),
    h('td', { 'data-label': 'Consumer run' }, run?.url ?? run?.html_url
      ? h('a', { href: run.url ?? run.html_url }, `run ${run.id ?? ''}`.trim())
      : 'not linked yet', run?.conclusion ? ` · ${run.conclusion}` : ''),
    h('td', {}, button),
  );
}

async function redeliver(delivery, button) {
  button.disabled = true;
  const res = await api(`/api/tenant/deliveries/${encodeURIComponent(delivery.id)}/redeliver`, { method: 'POST' });
  say('status', res.ok ? `Redelivery to ${repositoryName(delivery.consumer)} requested.` : res.status === 404 ? 'Redelivery is not available yet.' : 'Zekt could not redeliver just now.');
  button.disabled = false;
}

async function openEvent(event, body) {
  body.replaceChildren(h('p', { role: 'status' }, 'Loading deliveries…'));
  const res = await api(`/api/tenant/events/${encodeURIComponent(event.id)}`);
  if (!res.ok) return body.replaceChildren(h('p', {}, res.status === 404 ? 'Deliveries are not available yet.' : 'Zekt could not read the deliveries just now.'));
  const detail = res.data?.event ?? res.data;
  const deliveries = res.data?.deliveries ?? detail?.deliveries ?? [];
  body.replaceChildren(
    h('h3', {}, 'Messages'),
    messageList(detail?.messages ?? event.messages),
    h('h3', {}, 'Deliveries'),
    deliveries.length
      ? h('table', {},
          h('thead', {}, h('tr', {}, ...['Consumer', 'Status', 'Attempts', 'Last error', 'Consumer run', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, deliveries.map((d) => deliveryRow(d, redeliver))),
        )
      : h('p', {}, 'No consumer subscribed to this event.'),
  );
}

async function main() {
  const res = await api('/api/tenant/events');
  const timeline = document.getElementById('timeline');
  if (res.status === 404) {
    say('status', 'Events are not available yet.');
    return timeline.replaceWith(unavailable('Events'));
  }
  if (res.status === 409) return location.assign('/signup');
  if (!res.ok) return say('status', 'Zekt could not read the events just now. Reload to try again.');
  const events = Array.isArray(res.data) ? res.data : res.data?.events ?? [];
  say('status', events.length ? `${events.length} event${events.length === 1 ? '' : 's'}.` : 'No provider run has become an event yet.');
  timeline.replaceChildren(...events.map((event) => {
    const body = h('div', {});
    const details = h('details', {},
      h('summary', {},
        h('strong', {}, repositoryName(event.provider ?? event.repository)), ` · ${event.workflow?.name ?? event.workflow?.path ?? 'workflow'}`,
        ` · run ${event.run?.id ?? ''}${event.run?.attempt > 1 ? ` attempt ${event.run.attempt}` : ''}`,
        event.run?.conclusion ? ` · ${event.run.conclusion}` : '', ` · ${when(event.created_at)}`,
        event.settled_at ? ' · settled' : '',
      ),
      body,
    );
    details.addEventListener('toggle', () => { if (details.open) openEvent(event, body); });
    return h('li', {}, details);
  }));
}

start(main);
