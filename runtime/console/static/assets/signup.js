// Sign up: the tenant name (checked as the API checks it, errors next to the field) and a contact
// e-mail, then POST /api/signup with the session's CSRF token, then the provisioning progress.
import { api, start } from './console.js';

// The API's rule (tenant-stack/tenant-id.ts): 3-32 lowercase letters, digits, single hyphens.
const tenantIdPattern = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,31}$/;

function tenantError(value) {
  if (!value) return 'Enter a tenant name.';
  if (value.length < 3 || value.length > 32) return 'Use 3 to 32 characters.';
  if (!/^[a-z]/.test(value)) return 'Start with a lowercase letter.';
  if (/[^a-z0-9-]/.test(value)) return 'Use only lowercase letters, digits and hyphens.';
  if (!tenantIdPattern.test(value)) return 'Use single hyphens only, and end with a letter or digit.';
  return '';
}

function emailError(value) {
  if (!value) return 'Enter a contact e-mail.';
  if (value.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return 'Enter an e-mail address such as name@example.com.';
  return '';
}

function show(input, errorId, message) {
  const node = document.getElementById(errorId);
  node.textContent = message;
  node.hidden = !message;
  input.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/** The API's default name for a GitHub login (runtime/identity/tenant-accounts.ts). */
function suggestion(login) {
  let id = login.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(id)) id = `t-${id}`;
  id = id.slice(0, 32).replace(/-+$/, '');
  while (id.length < 3) id += '0';
  return id;
}

async function main() {
  const session = await api('/api/auth/session');
  const me = await api('/api/tenants/me');
  if (me.ok) return location.assign('/overview');
  const form = document.getElementById('signup');
  const tenant = document.getElementById('tenant');
  const email = document.getElementById('email');
  if (session.data?.user?.login) tenant.value = suggestion(session.data.user.login);
  // Errors appear on submit and clear as the field is corrected. (Not on blur: an error appearing
  // or vanishing as focus leaves a field shifts the button away from the pointer mid-click.)
  tenant.addEventListener('input', () => {
    if (tenant.getAttribute('aria-invalid') === 'true') show(tenant, 'tenant-error', tenantError(tenant.value.trim()));
  });
  email.addEventListener('input', () => {
    if (email.getAttribute('aria-invalid') === 'true') show(email, 'email-error', emailError(email.value.trim()));
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const tenantId = tenant.value.trim();
    const contactEmail = email.value.trim();
    const errors = [tenantError(tenantId), emailError(contactEmail)];
    show(tenant, 'tenant-error', errors[0]);
    show(email, 'email-error', errors[1]);
    const formError = document.getElementById('form-error');
    formError.hidden = true;
    if (errors[0]) return tenant.focus();
    if (errors[1]) return email.focus();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const res = await api('/api/signup', { method: 'POST', body: { tenantId, contactEmail } });
      if (res.ok) return location.assign('/overview');
      formError.textContent = res.status === 400 && res.data?.error ? `Zekt refused this: ${res.data.error}` : 'Signup did not go through. Try again in a moment.';
      formError.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

start(main);
