/**
 * What the router reads per delivery (route-delivery.ts): rounds of one installation routed while
 * a read of its binding or its tenant's address is in flight join that read instead of repeating
 * it; a binding and an address found are reused for `lookupReuseMs`, then read again; an
 * installation with no tenant is never kept (it is read again, so a new binding is seen at once);
 * an installation event reads the binding after applying itself, never from a read started
 * before, and the binding it changed is not reused.
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

describe('ingress: the router joins the reads in flight and reuses what it found for a while', () => {
  let h: IngressHarness;
  beforeEach(async () => {
    h = await startRouterlessHarness();
  });
  afterEach(() => h.close());

  const tenant = () => h.tenants.get('acme') as NonNullable<ReturnType<IngressHarness['tenants']['get']>>;

  /** A router whose binding and address reads are counted, each held until `release()`. */
  function countingRouter(lookupReuseMs?: number, addressOf: (tenantId: string) => string | undefined = (tenantId) => h.tenants.get(tenantId)?.webhookUrl) {
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
        return addressOf(tenantId);
      },
      forwardSecrets: h.ingress.forwardSecrets,
      queue: h.storage.queue('ingress-deliveries'),
      retrySchedule: [1],
      forwardTimeoutMs: 2000,
      log: memoryLogger().log,
      ...(lookupReuseMs !== undefined ? { lookupReuseMs } : {}),
    });
    // The intake with no router of its own: its rounds are announced, and the test routes them.
    const committer = createDeliveryCommitter({ table: h.storage.table('deliveries'), queue: h.storage.queue('ingress-deliveries'), payloads: h.storage.container('webhook-payloads'), inlineBodyBytes: 48 * 1024, log: memoryLogger().log });
    return { router, store: committer, bindingReads, addressReads, hold, release: () => gate?.open() };
  }

  const body = Buffer.from(JSON.stringify(workflowRunPayload()));
  async function stored(store: ReturnType<typeof createDeliveryCommitter>, event = 'workflow_run', payload: unknown = workflowRunPayload(), installationId = 4242): Promise<string> {
    const deliveryId = randomUUID();
    const at = new Date().toISOString();
    const raw = event === 'workflow_run' ? body : Buffer.from(JSON.stringify(payload));
    const record: DeliveryRecord = {
      deliveryId, partition: deliveryPartition(deliveryId), event, action: (payload as { action?: string }).action ?? 'completed', installationId,
      signature: 'sha256', receivedAt: at, status: 'received', attempts: 0, updatedAt: at, bodyBytes: raw.length,
    };
    expect(await store.persist(record, raw)).to.equal('stored');
    return deliveryId;
  }

  it('reads a binding and an address once for rounds routed while the read is in flight, and again for a later round once nothing is reused', async () => {
    const { router, store, bindingReads, addressReads, hold, release } = countingRouter(0);
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

    // With no reuse window, nothing is kept once answered: a later round reads both again.
    const third = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [third] });
    expect(bindingReads).to.deep.equal([4242, 4242]);
    expect(addressReads).to.deep.equal(['acme', 'acme']);
    expect(tenant().received.map((r) => r.id)).to.include(third);
  });

  it('reuses a binding and an address it found for a later round, and reads them again once the window has passed', async () => {
    const { router, store, bindingReads, addressReads } = countingRouter(300);
    const first = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [first] });
    const second = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [second] });
    expect(bindingReads, 'binding reads').to.deep.equal([4242]);
    expect(addressReads, 'address reads').to.deep.equal(['acme']);
    await new Promise((r) => setTimeout(r, 350));
    const third = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [third] });
    expect(bindingReads).to.deep.equal([4242, 4242]);
    expect(addressReads).to.deep.equal(['acme', 'acme']);
    expect(tenant().received.map((r) => r.id).sort()).to.deep.equal([first, second, third].sort());
  });

  it('keeps no answer for an installation without a tenant: the delivery after its binding is forwarded at once', async () => {
    const { router, store, bindingReads } = countingRouter(60_000);
    const early = await stored(store, 'workflow_run', workflowRunPayload(), 777);
    await router.handleAnnouncement({ deliveryIds: [early] });
    expect((await h.ingress.deliveries.get(early)).status).to.equal('parked');
    await h.ingress.installations.bind(777, 'acme', {}, new Date());
    const later = await stored(store, 'workflow_run', workflowRunPayload(), 777);
    await router.handleAnnouncement({ deliveryIds: [later] });
    expect(bindingReads).to.deep.equal([777, 777]);
    expect((await h.ingress.deliveries.get(later)).status).to.equal('delivered');
    expect(tenant().received.map((r) => r.id)).to.include(later);
  });

  it('drops a kept address when a forward to it did not land: the next delivery reads the address again', async () => {
    // The tenant's runtime moved: the address first read is gone (nothing listens there).
    let address = 'http://127.0.0.1:9/api/webhooks';
    const { router, store, addressReads } = countingRouter(60_000, () => address);
    const first = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [first] });
    expect((await h.ingress.deliveries.get(first)).status).to.equal('retrying');
    address = tenant().webhookUrl;
    const second = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [second] });
    expect(addressReads).to.deep.equal(['acme', 'acme']);
    expect((await h.ingress.deliveries.get(second)).status).to.equal('delivered');
  });

  it('does not reuse a binding an installation event changed: after the uninstall, the next delivery is parked', async () => {
    const { router, store, bindingReads } = countingRouter(60_000);
    const before = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [before] });
    const deleted = await stored(store, 'installation', {
      action: 'deleted',
      installation: { id: 4242, account: { login: 'acme', id: 1, type: 'Organization' } },
      sender: { login: 'octocat', id: 2 },
    });
    await router.handleAnnouncement({ deliveryIds: [deleted] });
    const after = await stored(store);
    await router.handleAnnouncement({ deliveryIds: [after] });
    expect(bindingReads).to.deep.equal([4242, 4242, 4242]);
    expect((await h.ingress.deliveries.get(after)).status).to.equal('parked');
    expect(tenant().received.map((r) => r.id)).to.not.include(after);
  });

  it('an installation event reads the binding after applying itself, not from a read in flight', async () => {
    const { router, store, bindingReads, hold, release } = countingRouter(0);
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
