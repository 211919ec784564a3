// The tenant's state: live provisioning progress (polling GET /api/tenants/me), then ready and what
// to do next, or a failure a person can act on. Engine output is never shown.
import { api, h, say, start } from './console.js';

const pollMs = 1000;
const busy = new Set(['requested', 'provisioning']);

function next(...children) {
  document.getElementById('next').hidden = false;
  document.getElementById('next-body').replaceChildren(...children);
}

function render(tenant) {
  const box = document.getElementById('progress-box');
  const progress = tenant.progress;
  if (busy.has(tenant.status)) {
    say('status', tenant.status === 'requested'
      ? `Tenant ${tenant.tenantId} is requested: its compartment is being prepared.`
      : `Tenant ${tenant.tenantId} is being provisioned.`);
    box.hidden = false;
    const bar = document.getElementById('progress');
    if (progress?.total) {
      bar.max = progress.total;
      bar.value = progress.done;
      say('progress-text', `${progress.done} of ${progress.total} resources done${progress.current ? ` · now: ${progress.current}` : ''}`);
    } else {
      bar.removeAttribute('value');
      say('progress-text', 'Starting…');
    }
    return;
  }
  box.hidden = true;
  switch (tenant.status) {
    case 'ready':
      say('status', `✔ Tenant ${tenant.tenantId} is ready.`);
      return next(
        h('ol', {},
          h('li', {}, h('a', { href: '/install' }, 'Install the Zekt GitHub App'), ' on the repositories that run workflows and those that receive events.'),
          h('li', {}, 'Add a ', h('code', {}, '.github/zekt.yml'), ' to each consumer repository — see ', h('a', { href: '/subscriptions' }, 'Subscriptions'), '.'),
          h('li', {}, 'Add the Zekt Action to your workflows — see ', h('a', { href: '/workflows' }, 'Set-up for workflows'), '.'),
        ),
      );
    case 'failed': {
      say('status', `✖ Provisioning of tenant ${tenant.tenantId} did not finish.`);
      // Only a short, one-line reason is shown; anything longer is engine detail for operators.
      const reason = typeof tenant.lastError === 'string' && tenant.lastError.length <= 160 && !tenant.lastError.includes('\n') ? tenant.lastError : undefined;
      return next(
        ...(reason ? [h('p', {}, `Reason: ${reason}`)] : []),
        h('p', {}, 'Zekt retried several times and then stopped. None of your data is lost.'),
        h('p', {}, `Contact Zekt support and quote your tenant name, ${tenant.tenantId}. We will finish the set-up, or you can delete the tenant on the `, h('a', { href: '/account' }, 'Account'), ' page.'),
      );
    }
    case 'deprovisioning':
      say('status', `Tenant ${tenant.tenantId} is being deleted.`);
      return next(h('p', {}, 'Follow the deletion on the ', h('a', { href: '/account' }, 'Account'), ' page.'));
    case 'deleted':
      say('status', `Tenant ${tenant.tenantId} was deleted.`);
      return next(h('p', {}, 'Its compartment and data are gone.'));
    default:
      say('status', `Tenant ${tenant.tenantId}: ${tenant.status}.`);
  }
}

async function main() {
  for (;;) {
    const res = await api('/api/tenants/me');
    if (res.status === 409) return location.assign('/signup');
    if (!res.ok) {
      say('status', 'Zekt could not read your tenant just now; retrying…');
    } else {
      render(res.data);
      if (!busy.has(res.data.status)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

start(main);
