/**
 * A message posted while, or after, its run's event is dispatched (docs/action.md, "Late
 * messages"). The real parts: the message endpoints on a local host with OIDC tokens from the
 * GitHub double, the tenant's orchestration on Azurite (through the platform's ingress and token
 * broker), dispatches accepted by the double. What a consumer sees is what the double recorded.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createLocalHost, type LocalHost } from '../../runtime/local-host/create-local-host.ts';
import { createMessageParts, type MessageDeps } from '../../runtime/tenant/messages/message-functions.ts';
import type { MessageReferencesOfRun } from '../../runtime/tenant/message-reference.ts';
import { tenantStorageLayout } from '../../tenant-stack/tenant-outputs.ts';
import { memoryLogger } from '../support/logs.ts';
import { startDispatchWorld, startFaultFront, until, type DispatchWorld, type FaultFront, type TenantUnderTest } from '../dispatch/support.ts';

type Payload = { zekt: { event_id: string; delivery_id: string; correlation_id: string; follow_up?: { id: string; message_id: string } }; messages: { id: string; name?: string }[] };

describe('messages: a message posted while its event is dispatched', function () {
  this.timeout(90_000);
  let world: DispatchWorld;
  let front: FaultFront;
  let tenant: TenantUnderTest;
  let messages: LocalHost;
  let repos: Record<string, { id: number; fullName: string }>;
  let runId = 7000;
  // The orchestration reads references through this; a test may step into the read (the race).
  let referencesOfRun: MessageReferencesOfRun = async () => [];
  const intoRead: { runId?: number; then?: () => Promise<void>; before?: boolean } = {};

  before(async () => {
    world = await startDispatchWorld();
    front = await startFaultFront(world.double.apiUrl);
    tenant = await world.addTenant('acme', {
      apiUrl: front.url,
      orchestration: {
        // A retry 3 s after a failed dispatch: time enough to store a message while the delivery waits.
        config: { retrySchedule: [3, 1] },
        messagesOfRun: async (run) => {
          const step = run.runId === intoRead.runId ? intoRead.then : undefined;
          if (step) intoRead.then = undefined;
          if (step && intoRead.before) await step();
          const found = await referencesOfRun(run);
          if (step && !intoRead.before) await step();
          return found;
        },
      },
    });
    repos = await world.install('acme', 'acme', ['build', 'deploy', 'docs', 'bystander']);
    for (const name of ['deploy', 'docs']) await tenant.subscribe(repos[name] as never, [{ provider: repos.build as never, conclusions: ['success'] }]);
    const { log } = memoryLogger();
    const deps: MessageDeps = {
      tenantId: 'acme',
      table: tenant.storage.table(tenantStorageLayout.tables[1]),
      log,
      oidcIssuer: world.double.oidcIssuer,
      messageKeys: async () => ({ current: randomBytes(32).toString('base64') }),
      settings: { maxBytes: 64 * 1024, maxDepth: 32, ttlSeconds: 86400 },
      messagesUrl: () => `${messages.url}/api/messages`,
      isTenantRepository: async (id) => Object.values(repos).some((r) => r.id === id),
      mayPublish: async () => true,
      wasDelivered: tenant.orchestration.wasMessageDeliveredTo,
      linkDelivery: async () => 'linked',
      // As the tenant function table wires it.
      onPosted: tenant.orchestration.onMessagePosted,
    };
    const parts = createMessageParts(deps);
    referencesOfRun = parts.store.referencesOfRun;
    messages = await createLocalHost({ table: parts.functions.filter((f) => f.kind === 'http'), log, timers: false });
  });
  after(async () => {
    await messages?.close();
    await front?.close();
    await world?.close();
  });

  async function post(run: number, name: string): Promise<string> {
    const token = await world.double.issueOidcToken({ repository: 'acme/build', audience: 'zekt:acme', runId: run, runAttempt: 1 });
    const res = await fetch(`${messages.url}/api/messages?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ name }) });
    expect(res.status).to.equal(201);
    return ((await res.json()) as { id: string }).id;
  }
  async function fetchAs(repository: string, messageId: string): Promise<number> {
    const token = await world.double.issueOidcToken({ repository, audience: 'zekt:acme', runId: ++runId, runAttempt: 1 });
    const res = await fetch(`${messages.url}/api/messages/${messageId}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  }
  const dispatchesOf = (run: number, repository: string) =>
    world.double.dispatches.filter((d) => d.repository === repository && (d.clientPayload as { run: { id: number } }).run.id === run).map((d) => d.clientPayload as Payload);
  const deliveryOf = (run: number, consumer: string) => `${repos.build?.id}-${run}-1.${repos[consumer]?.id}`;
  const record = async (id: string) => (await tenant.orchestration.deliveries.read(id))?.record;

  it('is in the first dispatch when it is stored before the delivery reads the references (no follow-up)', async () => {
    const run = ++runId;
    await post(run, 'early');
    // The first dispatch to each consumer fails (GitHub 503): the deliveries wait for their retry, queued.
    front.script.push({ status: 503 }, { status: 503 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: run });
    await until('both deliveries to wait for a retry', async () => {
      const all = await Promise.all(['deploy', 'docs'].map((c) => record(deliveryOf(run, c))));
      return all.every((r) => r?.status === 'queued' && r.retries === 1 && !r.leaseUntil) ? all : undefined;
    });
    const late = await post(run, 'late');
    await until('both dispatched', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 0) ? true : undefined));
    await tenant.drain();
    for (const consumer of ['acme/deploy', 'acme/docs']) {
      const sent = dispatchesOf(run, consumer);
      expect(sent, consumer).to.have.length(1);
      expect(sent[0]?.zekt.follow_up, consumer).to.equal(undefined);
      expect(sent[0]?.messages.map((m) => m.name)).to.deep.equal(['early', 'late']);
    }
    expect((await record(deliveryOf(run, 'deploy')))?.messageIds).to.include(late);
    expect(await tenant.orchestration.followUps.list({ limit: 10 }).then((p) => p.items.filter((f) => f.eventId.includes(`-${run}-`)))).to.deep.equal([]);
  });

  it("is in the first dispatch when it is stored after the event and its records, before the fan-out reads the references (its follow-up is dropped)", async () => {
    const run = ++runId;
    let late = '';
    intoRead.runId = run;
    intoRead.before = true;
    intoRead.then = async () => {
      late = await post(run, 'late');
    };
    await world.run({ action: 'completed', repository: 'acme/build', runId: run });
    await until('both dispatched', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 0) ? true : undefined));
    // The notice found each record held by its first dispatch: a follow-up each, dropped once the dispatch shows it carried the message.
    await until('the follow-ups looked at', async () => ((await tenant.orchestration.followUps.list({ limit: 100 })).items.some((f) => f.eventId.includes(`-${run}-`)) ? undefined : true), 20_000);
    await tenant.drain();
    expect(late).to.not.equal('');
    for (const consumer of ['acme/deploy', 'acme/docs']) {
      const sent = dispatchesOf(run, consumer);
      expect(sent, consumer).to.have.length(1);
      expect(sent[0]?.messages.map((m) => m.id)).to.deep.equal([late]);
    }
    expect((await record(deliveryOf(run, 'docs')))?.messageIds).to.deep.equal([late]);
    expect(await fetchAs('acme/deploy', late)).to.equal(200);
  });

  it("reaches each consumer in exactly one follow-up when it is stored just after the fan-out read the references (its notice finds the records held)", async () => {
    const run = ++runId;
    let late = '';
    intoRead.runId = run;
    intoRead.before = false;
    intoRead.then = async () => {
      late = await post(run, 'late');
    };
    await world.run({ action: 'completed', repository: 'acme/build', runId: run });
    await until('the follow-ups', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 1) ? true : undefined));
    await tenant.drain();
    await new Promise((r) => setTimeout(r, 300));
    expect(late).to.not.equal('');
    for (const consumer of ['acme/deploy', 'acme/docs']) {
      const [first, followUp, ...more] = dispatchesOf(run, consumer);
      expect(more, consumer).to.deep.equal([]);
      expect(first?.messages, consumer).to.deep.equal([]);
      expect(followUp?.zekt.follow_up?.message_id).to.equal(late);
      expect(followUp?.messages.map((m) => m.id)).to.deep.equal([late]);
    }
    expect(await fetchAs('acme/deploy', late)).to.equal(200);
  });

  it('reaches each consumer already dispatched in exactly one follow-up, with every reference; they may fetch it, others may not', async () => {
    const run = ++runId;
    const early = await post(run, 'early');
    await world.run({ action: 'completed', repository: 'acme/build', runId: run });
    await until('both dispatched', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 0) ? true : undefined));
    await until('both recorded', async () => ((await Promise.all(['deploy', 'docs'].map((c) => record(deliveryOf(run, c))))).every((r) => r?.status === 'dispatched') ? true : undefined));
    const late = await post(run, 'late');
    await until('the follow-ups', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 1) ? true : undefined));
    await tenant.drain();
    await new Promise((r) => setTimeout(r, 300));
    for (const consumer of ['deploy', 'docs']) {
      const [first, followUp, ...more] = dispatchesOf(run, `acme/${consumer}`);
      expect(more, consumer).to.deep.equal([]);
      expect(first?.messages.map((m) => m.id)).to.deep.equal([early]);
      expect(first?.zekt.follow_up).to.equal(undefined);
      // The follow-up is the same delivery (a consumer's workflow runs again), marked, with every reference.
      expect(followUp?.zekt).to.deep.include({ event_id: first?.zekt.event_id, delivery_id: deliveryOf(run, consumer), correlation_id: first?.zekt.correlation_id });
      expect(followUp?.zekt.follow_up).to.deep.equal({ id: `${deliveryOf(run, consumer)}~${late}`, message_id: late });
      expect(followUp?.messages.map((m) => m.id)).to.deep.equal([early, late]);
    }
    // The same notice again (a repeat) queues nothing more.
    await tenant.orchestration.onMessagePosted({ repositoryId: repos.build?.id as number, runId: run, runAttempt: 1 }, (await referencesOfRun({ repositoryId: repos.build?.id as number, runId: run, runAttempt: 1 })).find((r) => r.id === late) as never);
    await tenant.drain();
    expect(dispatchesOf(run, 'acme/deploy')).to.have.length(2);
    // Fetch: a consumer that received the follow-up may; a repository never delivered the event may not.
    expect(await fetchAs('acme/deploy', late)).to.equal(200);
    expect(await fetchAs('acme/docs', late)).to.equal(200);
    expect(await fetchAs('acme/bystander', late)).to.equal(403);
  });

  it('follows up once when the message lands while a dispatch is in flight', async () => {
    const run = ++runId;
    // The dispatches are held at GitHub for a moment: the message is stored while they are in flight.
    front.script.push({ status: 204, proxy: true, delayMs: 1500 }, { status: 204, proxy: true, delayMs: 1500 });
    await world.run({ action: 'completed', repository: 'acme/build', runId: run });
    await until('both in flight', async () => ((await Promise.all(['deploy', 'docs'].map((c) => record(deliveryOf(run, c))))).every((r) => r?.status === 'queued' && r.leaseUntil) ? true : undefined));
    const late = await post(run, 'late');
    await until('the follow-ups', () => (['deploy', 'docs'].every((c) => dispatchesOf(run, `acme/${c}`).length > 1) ? true : undefined));
    await tenant.drain();
    await new Promise((r) => setTimeout(r, 300));
    for (const consumer of ['acme/deploy', 'acme/docs']) {
      const [first, followUp, ...more] = dispatchesOf(run, consumer);
      expect(more, consumer).to.deep.equal([]);
      expect(first?.messages).to.deep.equal([]);
      expect(followUp?.zekt.follow_up?.message_id).to.equal(late);
      expect(followUp?.messages.map((m) => m.id)).to.deep.equal([late]);
    }
  });
});
