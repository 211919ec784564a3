/**
 * The story `npm start` tells on a first start: one customer, from signing in to the settled
 * report, through the real local platform and the GitHub double's control API — every step over
 * HTTP, as a customer's browser, GitHub and the customer's workflows would call Zekt. Each step is
 * printed with the URL it used. Nothing is faked: if a part does not work, the story stops at that
 * step and says why.
 */
import { createDoubleControl, type AcceptedDispatch } from './double-control.ts';
import { PlatformSession } from './platform-session.ts';
import { runAction } from './run-action.ts';

export interface DemoStoryOptions {
  readonly platformUrl: string;
  /** Base URL of the GitHub double's control API (`…/_double`). */
  readonly doubleControlUrl: string;
  /** Prints one line of the story. */
  readonly say: (line: string) => void;
  /** How long any one step may wait (5 minutes by default: provisioning is the long one). */
  readonly stepTimeoutMs?: number;
  /**
   * Work a test does between two steps (a repeated webhook, a restarted runtime); nothing by
   * default. `json` reads the platform's API as the signed-in customer.
   */
  readonly between?: Partial<Record<'providerCompleted' | 'dispatched', (story: StoryMoment) => Promise<void>>>;
}

/** Where the story is when a test steps in. */
export interface StoryMoment {
  readonly tenantId: string;
  readonly messagesUrl: string;
  readonly providerRunId: number;
  readonly eventId?: string;
  json<T>(path: string): Promise<{ status: number; body: T }>;
}

export interface DemoStoryResult {
  readonly tenantId: string;
  readonly eventId: string;
  readonly consumerRunId: number;
  /** The message the consumer run fetched, as the Action's `message` output gave it. */
  readonly message: string;
  /** The settled report's consumers, as the provider received them. */
  readonly settled: readonly { repository: string; status: string; conclusion: string | null }[];
}

/** The message the story's provider run posts. */
export const demoMessage = { version: '1.4.2', artifact: 'build-1.4.2.tgz' };

export class DemoStoryStepError extends Error {
  override name = 'DemoStoryStepError';
}

const login = 'mona';
const provider = { owner: login, name: 'build', workflow: 'release.yml' };
const consumer = { owner: login, name: 'deploy', workflow: 'deploy.yml' };
const providerFullName = `${provider.owner}/${provider.name}`;
const consumerFullName = `${consumer.owner}/${consumer.name}`;

export const demoConsumerConfig = `# .github/zekt.yml of ${consumerFullName}
subscriptions:
  - provider: ${providerFullName}
    workflows: [${provider.workflow}]
    conclusions: [success]
    branches: [main]
`;

export const demoProviderConfig = `# .github/zekt.yml of ${providerFullName}
publish:
  consumers: [${consumerFullName}]
  settled_report: true
`;

type ZektPayload = { zekt?: { event_id?: string; correlation_id?: string } };

export async function runDemoStory(options: DemoStoryOptions): Promise<DemoStoryResult> {
  const control = createDoubleControl(options.doubleControlUrl);
  const session = new PlatformSession(options.platformUrl);
  const timeout = options.stepTimeoutMs ?? 300_000;
  let step = 0;
  const say = (title: string, detail = '') => options.say(`  ${String(++step).padStart(2)}. ${title}${detail ? `\n      ${detail}` : ''}`);

  async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new DemoStoryStepError(`the story stopped waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const dispatchesTo = (fullName: string) => control.dispatches(fullName);
  const payloadOf = (d: AcceptedDispatch) => (d.client_payload ?? d.clientPayload ?? {}) as ZektPayload;

  // Sign in.
  await control.addUser(login);
  await control.signInAs(login);
  const signedIn = await session.follow('/api/auth/login');
  if (signedIn.status >= 400) throw new DemoStoryStepError(`sign-in answered ${signedIn.status}`);
  say(`${login} signs in with GitHub (OAuth + PKCE through the double)`, `${options.platformUrl}/api/auth/login`);

  // Sign up and watch provisioning.
  const signup = await session.post<{ tenantId: string }>('/api/signup', { tenantId: login, contactEmail: `${login}@example.com` });
  if (signup.status !== 202 && signup.status !== 200) throw new DemoStoryStepError(`signup answered ${signup.status}: ${JSON.stringify(signup.body)}`);
  const tenantId = signup.body.tenantId;
  say(`${login} signs up: tenant ${tenantId} requested`, `POST ${options.platformUrl}/api/signup`);
  let lastProgress = '';
  const me = await waitFor('the tenant to be ready', async () => {
    const { body } = await session.json<{ status: string; progress?: { done?: number; total?: number; current?: string }; endpoints?: { messagesUrl?: string; oidcAudience?: string }; lastError?: { message?: string; reference?: string } }>('/api/tenants/me');
    const progress = `${body.status}${body.progress?.total ? ` ${body.progress.done ?? 0}/${body.progress.total}` : ''}`;
    if (progress !== lastProgress) options.say(`      provisioning: ${progress}`);
    lastProgress = progress;
    if (body.status === 'failed') throw new DemoStoryStepError(`provisioning failed: ${body.lastError?.message ?? ''} (reference ${body.lastError?.reference ?? '-'}; see zekt tenants show)`);
    return body.status === 'ready' ? body : undefined;
  });
  const messagesUrl = me.endpoints?.messagesUrl;
  const audience = me.endpoints?.oidcAudience;
  if (!messagesUrl || !audience) throw new DemoStoryStepError('the ready tenant shows no messages URL and audience');
  say(`tenant ${tenantId} is ready: its own storage, vault, identity and runtime`, `GET ${options.platformUrl}/api/tenants/me → messages ${messagesUrl}`);

  // Install the App on a provider and a consumer repository, and bind the installation.
  await control.addRepository(provider.owner, provider.name);
  await control.addRepository(consumer.owner, consumer.name);
  await control.putFile(providerFullName, '.github/zekt.yml', demoProviderConfig);
  const installation = await control.install(login, [provider.name, consumer.name], login);
  const setup = await session.follow(`/api/github/setup?installation_id=${installation.id}&setup_action=install`);
  if (setup.status >= 400) throw new DemoStoryStepError(`binding the installation answered ${setup.status}`);
  say(`the Zekt App is installed on ${providerFullName} and ${consumerFullName}; installation ${installation.id} bound to ${tenantId}`, `${options.platformUrl}/api/github/setup?installation_id=${installation.id}`);

  // The consumer subscribes as code.
  await control.putFile(consumerFullName, '.github/zekt.yml', demoConsumerConfig);
  await waitFor('the consumer subscription', async () => {
    const { status, body } = await session.json<{ repositories?: { repository?: { fullName?: string }; subscriptions?: unknown[] }[] }>('/api/tenant/subscriptions');
    if (status !== 200) return undefined;
    const entry = body.repositories?.find((r) => r.repository?.fullName === consumerFullName);
    return entry && (entry.subscriptions?.length ?? 0) > 0 ? entry : undefined;
  });
  say(`${consumerFullName} pushes .github/zekt.yml: subscribed to ${providerFullName} ${provider.workflow} on success`, `GET ${options.platformUrl}/api/tenant/subscriptions`);

  // A provider run posts a message through the Action, then completes.
  const providerRun = await control.startRun(providerFullName, { workflow: provider.workflow, headBranch: 'main' });
  await runAction({
    inputs: { mode: 'send', endpoint: messagesUrl, audience, message: JSON.stringify(demoMessage), name: 'release' },
    repository: providerFullName,
    runId: providerRun.id,
    runAttempt: providerRun.attempt,
    idTokenRequestUrl: providerRun.idTokenRequestUrl,
    idTokenRequestToken: providerRun.idTokenRequestToken,
  });
  say(`provider run ${providerRun.id} posts a message through the Zekt Action (OIDC, encrypted at rest)`, `POST ${messagesUrl}`);
  await control.completeRun(providerFullName, providerRun.id, 'success');
  say(`provider run ${providerRun.id} completes: success → webhook → ingress → tenant ${tenantId}`);
  const moment = { tenantId, messagesUrl, providerRunId: providerRun.id, json: <T>(path: string) => session.json<T>(path) };
  await options.between?.providerCompleted?.(moment);

  const dispatch = await waitFor('the dispatch to the consumer', async () => (await dispatchesTo(consumerFullName)).find((d) => payloadOf(d).zekt?.event_id));
  const zekt = payloadOf(dispatch).zekt as { event_id: string; correlation_id: string };
  say(`Zekt event ${zekt.event_id} dispatched to ${consumerFullName} (repository_dispatch ${dispatch.event_type ?? dispatch.eventType})`, `${options.doubleControlUrl}/dispatches?repository=${consumerFullName}`);
  await options.between?.dispatched?.({ ...moment, eventId: zekt.event_id });

  // The consumer run receives it through the Action, fetches the message and is linked.
  const consumerRun = await control.startRun(consumerFullName, { workflow: consumer.workflow, event: 'repository_dispatch', displayTitle: `Deploy ${zekt.correlation_id}`, headBranch: 'main' });
  const received = await runAction({
    inputs: { mode: 'receive', endpoint: messagesUrl, audience },
    repository: consumerFullName,
    runId: consumerRun.id,
    runAttempt: consumerRun.attempt,
    idTokenRequestUrl: consumerRun.idTokenRequestUrl,
    idTokenRequestToken: consumerRun.idTokenRequestToken,
    eventName: 'repository_dispatch',
    event: { action: dispatch.event_type ?? dispatch.eventType, client_payload: payloadOf(dispatch) },
  });
  say(`consumer run ${consumerRun.id} receives event ${received.outputs['event-id']} and fetches the message: ${received.outputs.message}`);
  await control.completeRun(consumerFullName, consumerRun.id, 'success');
  await waitFor('the delivery to be completed', async () => {
    const { status, body } = await session.json<{ deliveries?: { status?: string; linked_run?: { id?: number } | null }[] }>(`/api/tenant/events/${zekt.event_id}`);
    return status === 200 && body.deliveries?.length && body.deliveries.every((d) => d.status === 'completed' && d.linked_run?.id === consumerRun.id) ? body : undefined;
  });
  say(`delivery linked: provider run ${providerRun.id} → event → consumer run ${consumerRun.id} (success)`, `GET ${options.platformUrl}/api/tenant/events/${zekt.event_id}`);

  // The provider hears back once.
  const report = await waitFor('the settled report', async () => (await dispatchesTo(providerFullName)).find((d) => payloadOf(d).zekt?.event_id === zekt.event_id));
  const consumers = (payloadOf(report) as { consumers?: { repository: string; status: string; conclusion: string | null }[] }).consumers ?? [];
  say(`settled report (${report.event_type ?? report.eventType}) dispatched back to ${providerFullName}: ${consumers.map((c) => `${c.repository} ${c.conclusion ?? 'no conclusion'}`).join(', ')}`, `${options.doubleControlUrl}/dispatches?repository=${providerFullName}`);
  return { tenantId, eventId: zekt.event_id, consumerRunId: consumerRun.id, message: received.outputs.message ?? '', settled: consumers };
}
