// Shared by every console page: the JSON API with CSRF, sign-in on an expired session (and back),
// the navigation, and a DOM builder that only ever sets text (never HTML), so data cannot inject.

/** The CSRF token the session set in a cookie this origin can read; `__Host-` prefixed on https. */
export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'zekt_csrf' || name === '__Host-zekt_csrf') return decodeURIComponent(rest.join('='));
  }
  return '';
}

/** Sends the browser to GitHub sign-in, and back to this very page afterwards. */
export function signIn() {
  const here = `${location.pathname}${location.search}`;
  location.assign(`/api/auth/login?return_to=${encodeURIComponent(here)}`);
}

export class SignInRequired extends Error {}

/**
 * Calls Zekt's API. State-changing calls carry the CSRF token. 401 → sign in again and come back.
 * Resolves to { status, ok, data } (data: the parsed JSON body, or undefined).
 */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-zekt-csrf'] = csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 401) {
    signIn();
    throw new SignInRequired('the session expired');
  }
  let data;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  return { status: res.status, ok: res.ok, data };
}

/** h('p', { class: 'x' }, 'text', child) — attributes and text only. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const nav = [
  ['overview', '/overview', 'Overview'],
  ['install', '/install', 'Install the App'],
  ['installations', '/installations', 'Installations'],
  ['subscriptions', '/subscriptions', 'Subscriptions'],
  ['events', '/events', 'Events'],
  ['workflows', '/workflows', 'Workflows'],
  ['account', '/account', 'Account'],
];

/** The navigation of signed-in pages, the current one marked for assistive technology too. */
export function renderNav() {
  const top = document.getElementById('top');
  const current = document.body.dataset.page;
  if (!top || !current) return;
  top.replaceChildren(
    h('nav', { 'aria-label': 'Console' },
      h('ul', {},
        h('li', {}, h('a', { class: 'brand', href: '/' }, 'Zekt')),
        nav.map(([id, href, label]) => h('li', {}, h('a', { href, 'aria-current': id === current ? 'page' : undefined }, label))),
      ),
    ),
  );
}

/** Sets a status line's text (a live region where the page declared one). */
export function say(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}

/** The empty state of pages whose data arrives with the orchestration API. */
export function unavailable(what) {
  return h('p', { class: 'notice' }, `${what} are not available on this Zekt yet. Nothing is lost: they appear here once the platform serves them.`);
}

/** A byte count a person reads. */
export function bytes(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** Runs a page's main; a sign-in redirect in flight is not an error to show. */
export function start(main) {
  renderNav();
  main().catch((err) => {
    if (err instanceof SignInRequired) return;
    say('status', 'Something went wrong loading this page. Reload to try again.');
    console.error(err);
  });
}
