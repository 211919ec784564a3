/**
 * The ingress as its own process, for the crash test: the platform's ingress functions (intake,
 * router, timers off) on a local host, against the Azurite the parent started. Settings come from
 * the parent through the environment; prints `listening <url>` when ready.
 */
import { createStorage } from '../../runtime/storage/create-storage.ts';
import { cachedSecretStore, platformSecretNames } from '../../runtime/core/secret-store.ts';
import { createIngress } from '../../runtime/ingress/create-ingress.ts';
import { createLocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createLogger } from '../../runtime/core/logger.ts';
import { defaultIngressConfig } from './support.ts';

const env = process.env;
const storage = createStorage({ kind: 'connection-string', connectionString: env.CRASH_STORAGE as string });
const secrets = new Map([
  [platformSecretNames.webhookSecret, env.CRASH_WEBHOOK_SECRET as string],
  [platformSecretNames.tenantForwardSecret('acme'), env.CRASH_FORWARD_SECRET as string],
]);
const ingress = createIngress({
  storage,
  secrets: cachedSecretStore(async (name) => secrets.get(name), 0),
  tenantWebhookUrl: async (tenantId) => (tenantId === 'acme' ? env.CRASH_TENANT_URL : undefined),
  config: { ...defaultIngressConfig, forwardTimeoutMs: 1000 },
  log: createLogger({ level: 'silent' }),
});
const host = await createLocalHost({
  table: ingress.functions,
  storage,
  log: createLogger({ level: 'silent' }),
  timers: false,
  queue: { minPollMs: 20, maxPollMs: 100, visibilityTimeoutSeconds: 3 },
});
console.log(`listening ${host.url}`);
