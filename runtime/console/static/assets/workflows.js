// The tenant's messages URL and OIDC audience (GET /api/tenants/me), with provider and consumer
// workflow snippets for the Zekt Action, each copyable.
import { api, say, start } from './console.js';

/** Where the Zekt Action is published: OWNER stands for the repository that hosts it (docs/action.md). */
const action = 'OWNER/zekt/action@v1';

const provider = (url, audience) => `# .github/workflows/ci.yml in the provider repository
on: push
permissions:
  contents: read
  id-token: write   # the Action proves this run to Zekt with GitHub's OIDC token
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "build here"
      - uses: ${action}
        with:
          mode: send
          endpoint: ${url}
          audience: ${audience}
          name: build-info
          message: '{"commit": "\${{ github.sha }}"}'
`;

const consumer = (url, audience) => `# .github/workflows/on-zekt.yml in a consumer repository
# The correlation id in the run's title links this run to the delivery that started it.
run-name: "Zekt \${{ github.event.client_payload.zekt.correlation_id }}"
on:
  repository_dispatch:
    # zekt:<provider owner/repo>:<workflow file>, unless the subscription names its own event_type
    types: ["zekt:OWNER/PROVIDER:ci.yml"]
permissions:
  contents: read
  id-token: write   # the Action fetches the provider's message with this run's OIDC token
jobs:
  react:
    runs-on: ubuntu-latest
    steps:
      - id: zekt
        uses: ${action}
        with:
          mode: receive
          endpoint: ${url}
          audience: ${audience}
          name: build-info
      - run: echo '\${{ steps.zekt.outputs.message }}'
`;

async function main() {
  const res = await api('/api/tenants/me');
  if (res.status === 409) return location.assign('/signup');
  const endpoints = res.data?.endpoints;
  const url = endpoints?.messagesUrl;
  const audience = endpoints?.oidcAudience;
  if (!url) {
    say('status', 'Your tenant has no messages URL until it is ready. The snippets show where it goes.');
  } else {
    say('status', 'Use these values in your workflows.');
    document.getElementById('endpoints').hidden = false;
    document.getElementById('messages-url').textContent = url;
    document.getElementById('audience').textContent = audience ?? 'published with the messages endpoint';
  }
  document.getElementById('provider-snippet').textContent = provider(url ?? '<messages URL>', audience ?? '<audience>');
  document.getElementById('consumer-snippet').textContent = consumer(url ?? '<messages URL>', audience ?? '<audience>');
  for (const button of document.querySelectorAll('button.copy')) {
    button.addEventListener('click', async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        say('copy-status', 'Copied to the clipboard.');
      } catch {
        // No clipboard permission: select the text so the keyboard's copy works.
        getSelection().selectAllChildren(document.getElementById(button.dataset.copy));
        say('copy-status', 'Selected: press Ctrl+C (or ⌘C) to copy.');
      }
    });
  }
}

start(main);
