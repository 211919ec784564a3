/**
 * What the router reads per delivery (route-delivery.ts): rounds of one installation routed while
 * a read of its binding or its tenant's address is in flight join that read instead of repeating
 * it; once a read has answered nothing of it is kept, so the next round reads again; an
 * installation event reads the binding after applying itself, never from a read started before.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { workflowRunPayload } from '../fixtures/index.ts';
import { startRouterlessHarness, type IngressHarness } from './support.ts';
import { createDeliveryStore } from '../../runtime/ingress/delivery-store.ts';
import { createDeliveryCommitter } from '../../runtime/ingress/persist-deliveries.ts';
import { deliveryPartition, type DeliveryRecord } from '../../runtime/ingress/delivery-record.ts';
import { createRouter } from '../../runtime/ingress/route-delivery.ts';
import type { InstallationRegistry } from '../../runtime/platform/installation-registry.ts';
import { memoryLogger } from '../support/logs.ts';

describe('ingress: the router joins the reads already in flight', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startRouterlessHarness();
  });
  afterEach(() => h.close());

  const tenant = () => h.tenants.get('acme') as NonNullable<ReturnType<IngressHarness['tenants']['get']>>;

  /** A router whose binding and address reads are counted, each held until `release()`. */
  function countingRouter() {
    const bindingReads: number[] = [];
    const addressReads: string[] = [];
    let gate: { promise: Promise<void>; open: () => void } | undefined;
    const hold = () => {
      let open = () => undefined as void;
      const promise = new Promise<void>((r) => (open = r));
      gate = { promise, open };
    };
    const waitGate = () => gate?.promise ?? Promise.resolve();
    const installations: InstallationRegistry = {
      ...h.ingress.installations,
      tenantOf: async (id) => {
        bindingReads.push(id);
        await waitGate();
        return h.ingress.installations.tenantOf(id);
      },
    };
    const store = createDeliveryStore(h.storage.table('deliveries'), h.storage.container('webhook-payloads'), deliveryPartition);
    const router = createRouter({
      deliveries: store,
      installations,
      tenantWebhookUrl: async (tenantId) => {
        addressReads.push(tenantId);
        return h.tenants.get(tenantId)?.webhookUrl;
      },
      forwardSecrets: h.ingress.forwardSecrets,
      queue: h.storage.queue('ingress-deliveries'),
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
      log: memoryLogger().log,
    });
    // The intake with no router of its own: its rounds are announced, and the test routes them.
    const committer = createDeliveryCommitter({ table: h.storage.table('deliveries'), queue: h.storage.queue('ingress-deliveries'), payloads: h.storage.container('webhook-payloads'), inlineBodyBytes: 48 * 1024, log: memoryLogger().log });
    return { router, store: committer, bindingReads, addressReads, hold, release: () => gate?.open() };
  }

  const body = Buffer.from(JSON.stringify(workflowRunPayload()));
  async function stored(store: ReturnType<typeof createDeliveryCommitter>, event = 'workflow_run', payload: unknown = workflowRunPayload()): Promise<string> {
    const deliveryId = randomUUID();
    const at = new Date().toISOString();
    const raw = event === 'workflow_run' ? body : Buffer.from(JSON.stringify(payload));
    const record: DeliveryRecord = {
      deliveryId, partition: deliveryPartition(deliveryId), event, action: (payload as { action?: string }).action ?? 'completed', installationId: 4242,
      signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes: raw.length,
    };
    expect(await store.persist(record, raw)).to.equal('stored');
    return deliveryId;
  }

  it('reads a binding and an address once for rounds routed while the read is in flight, and again for a later round', async () => {
    const { router, store, bindingReads, addressReads, hold, release } = countingRouter();
    const first = [await stored(store), await stored(store)];
    const second = [await stored(store)];
    hold();
    // Two announcements (two rounds) at once: the second joins the first one's binding read.
    const routing = Promise.all([router.handleAnnouncement({ deliveryIds: first }), router.handleAnnouncement({ deliveryIds: second })]);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await routing;
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([...first, ...second].sort());
    expect(bindingReads, 'binding reads').to.deep.equal([4242]);
    expect(addressReads, 'address reads').to.deep.equal(['acme']);

    // Nothing is kept once answered: a later round reads both again.
    const third = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [third] });
    expect(bindingReads).to.deep.equal([4242, 4242]);
    expect(addressReads).to.deep.equal(['acme', 'acme']);
    expect(tenant().received.map((r) => r.id)).to.include(third);
  });

  it('an installation event reads the binding after applying itself, not from a read in flight', async () => {
    const { router, store, bindingReads, hold, release } = countingRouter();
    const run = await stored(store);
    const installationPayload = {
      action: 'suspend',
      installation: { id: 4242, account: { login: 'acme', id: 1, type: 'Organization' }, suspended_at: new Date().toISOString() },
      sender: { login: 'octocat', id: 2 },
    };
    const event = await stored(store, 'installation', installationPayload);
    hold();
    const routing = Promise.all([router.handleAnnouncement({ deliveryIds: [run] }), router.handleAnnouncement({ deliveryIds: [event] })]);
    await new Promise((r) => setTimeout(r, 50));
    release();
    await routing;
    // The run's read, and the event's own after it was applied.
    expect(bindingReads).to.deep.equal([4242, 4242]);
    expect((await h.ingress.deliveries.get(event)).appliedAt).to.be.a('string');
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([run, event].sort());
  });
});
