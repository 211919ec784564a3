// Install the App (its GitHub installation page), and the outcome of GitHub's setup redirect,
// which /api/github/setup sends here as ?result=bound|refused|claimed|no-tenant|invalid|error.
import { api, h, say, start } from './console.js';

const outcomes = {
  bound: ['✔ Installation bound', (p) => `Installation ${p.get('installation_id')} now belongs to your tenant${p.get('repositories') ? ` with ${p.get('repositories')} repositories` : ''}. Zekt receives their workflow runs from now on.`],
  refused: ['✖ Not bound: this installation is not yours', (p) => `GitHub does not list installation ${p.get('installation_id') ?? ''} among the installations you can see, so Zekt did not bind it. Install the App on your own account or an organisation you administer.`],
  claimed: ['✖ Not bound: already claimed', (p) => `Installation ${p.get('installation_id') ?? ''} is bound to another Zekt account. Ask that account's owner to delete their tenant, or install the App on another account.`],
  'no-tenant': ['✖ Not bound: sign up first', () => 'Your account has no Zekt tenant yet. Sign up, wait until it is ready, then install the App again.'],
  invalid: ['✖ Not bound: the link was incomplete', () => 'GitHub\'s link carried no valid installation id. Start the installation again from the button below.'],
  error: ['✖ Not bound: something went wrong', () => 'Zekt could not finish the binding. Try again in a moment; nothing was changed.'],
};

async function main() {
  const params = new URLSearchParams(location.search);
  const outcome = outcomes[params.get('result') ?? ''];
  if (outcome) {
    const section = document.getElementById('result');
    section.hidden = false;
    section.classList.add('outcome');
    if (params.get('result') !== 'bound') section.classList.add('bad');
    say('result-title', outcome[0]);
    const text = document.getElementById('result-text');
    text.textContent = outcome[1](params);
    if (params.get('result') === 'bound') text.append(' ', h('a', { href: '/installations' }, 'See installations and repositories'), '.');
    if (params.get('result') === 'no-tenant') text.append(' ', h('a', { href: '/signup' }, 'Sign up'), '.');
    section.focus();
  }
  await api('/api/auth/session');
  const app = await api('/api/github/app');
  const link = document.getElementById('install-link');
  if (app.ok && app.data?.installUrl) {
    link.href = app.data.installUrl;
    link.removeAttribute('aria-disabled');
    link.textContent = `Install ${app.data.name ?? 'the App'} on GitHub`;
  } else {
    say('install-status', 'The GitHub App cannot be reached just now; reload to try again.');
  }
}

start(main);
