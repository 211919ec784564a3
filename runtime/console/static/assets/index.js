// Landing: what Zekt does, and "Sign in with GitHub"; a signed-in visitor gets a way in instead.
import { h } from './console.js';

async function main() {
  if (location.pathname !== '/') document.getElementById('not-found').hidden = false;
  const res = await fetch('/api/auth/session', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) return;
  const { user } = await res.json();
  document.getElementById('actions').replaceChildren(
    h('span', {}, `Signed in as ${user.login}. `),
    h('a', { class: 'button', href: '/overview' }, 'Open the console'),
  );
}

main().catch((err) => console.error(err));
