// Account: who is signed in (and the contact e-mail, shown only to its owner), sign out, and
// offboarding — typed confirmation, DELETE /api/tenants/me with CSRF, then the destroy's progress.
import { api, say, start } from './console.js';

const pollMs = 1000;

async function watchRemoval() {
  document.getElementById('offboard').hidden = true;
  const section = document.getElementById('removal');
  section.hidden = false;
  const bar = document.getElementById('removal-progress');
  for (;;) {
    const res = await api('/api/tenants/me');
    const tenant = res.data;
    if (res.ok && tenant.status === 'deleted') {
      bar.max = 1;
      bar.value = 1;
      return say('removal-text', `✔ Tenant ${tenant.tenantId} and its data are deleted. You can sign out now.`);
    }
    if (res.ok && tenant.status === 'failed') {
      return say('removal-text', `✖ Deleting tenant ${tenant.tenantId} did not finish. Zekt support has been told; quote your tenant name when you contact them.`);
    }
    if (res.ok && tenant.progress?.total) {
      bar.max = tenant.progress.total;
      bar.value = tenant.progress.done;
      say('removal-text', `Deleting: ${tenant.progress.done} of ${tenant.progress.total} resources${tenant.progress.current ? ` · now: ${tenant.progress.current}` : ''}`);
    } else {
      say('removal-text', 'Deleting: starting…');
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function main() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    const res = await api('/api/auth/logout', { method: 'POST' });
    if (res.ok) location.assign('/');
    else say('status', 'Zekt could not sign you out just now. Try again.');
  });
  const account = await api('/api/account');
  const me = await api('/api/tenants/me');
  document.getElementById('who').hidden = false;
  document.getElementById('login').textContent = account.data?.user?.login ?? '';
  document.getElementById('contact').textContent = account.data?.contactEmail ?? 'none given';
  if (!me.ok) {
    document.getElementById('tenant-id').textContent = 'none yet';
    return say('status', 'Your account has no tenant.');
  }
  const tenant = me.data;
  document.getElementById('tenant-id').textContent = `${tenant.tenantId} (${tenant.status})`;
  say('status', '');
  if (tenant.status === 'deprovisioning' || tenant.status === 'deleted') return watchRemoval();
  document.getElementById('offboard').hidden = false;
  document.getElementById('confirm-name').textContent = tenant.tenantId;
  const input = document.getElementById('confirm');
  const error = document.getElementById('confirm-error');
  document.getElementById('offboard-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (input.value.trim() !== tenant.tenantId) {
      error.textContent = `Type ${tenant.tenantId} exactly to confirm.`;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      return input.focus();
    }
    error.hidden = true;
    input.setAttribute('aria-invalid', 'false');
    const res = await api('/api/tenants/me', { method: 'DELETE', body: { confirm: input.value.trim() } });
    if (!res.ok) {
      error.textContent = res.data?.error ? `Zekt refused this: ${res.data.error}` : 'Zekt could not start the deletion. Try again in a moment.';
      error.hidden = false;
      return;
    }
    await watchRemoval();
  });
}

start(main);
