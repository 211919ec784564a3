/**
 * The forwards one router instance has open to each tenant. At most `requestsPerTenant` POSTs are
 * open to one tenant at once: a backlog (after a storage outage the sweeper announces every
 * stalled row again) routed all at once would be more than a tenant runtime answers within the
 * forward timeout, so all would fail and be retried together. Per tenant, so a slow tenant never
 * holds up the others.
 *
 * What waits for one of those requests goes in the next one together: up to
 * `deliveriesPerForward` deliveries and `batchBytes` in one POST (forward-to-tenant.ts
 * `forwardBatchToTenant`). A delivery waiting alone goes alone, as a single forward, so nothing
 * ever waits for company: batches form only while the tenant answers slower than deliveries
 * arrive, which is when the requests they save count (each costs both sides a wake-up, its HTTP
 * parsing and a signature over its body). A tenant runtime that has no batch door (404 or 405:
 * one deployed before it) gets singles, and no batch for `batchRetryMs` after that.
 */
import type { HttpPost } from '../core/http-post.ts';
import { forwardBatchToTenant, sendForward, type ForwardResult, type ForwardSecrets } from './forward-to-tenant.ts';

export interface TenantForward {
  readonly tenantId: string;
  readonly url: string;
  readonly secrets: ForwardSecrets;
  /** The delivery's id and its single forward's body (`forwardBody`). */
  readonly id: string;
  readonly body: string;
  /** Asked just before it is sent: false drops it unsent (its claim was lost while it waited). */
  readonly ready: () => Promise<boolean>;
}

export interface TenantForwardsOptions {
  readonly requestsPerTenant: number;
  readonly deliveriesPerForward: number;
  readonly batchBytes: number;
  readonly timeoutMs: number;
  readonly post: HttpPost;
  readonly now: () => Date;
  /** How long a tenant that refused a batch (404/405) gets singles only (10 minutes by default). */
  readonly batchRetryMs?: number;
}

interface Waiting {
  readonly forward: TenantForward;
  readonly settle: (result: ForwardResult | undefined) => void;
  readonly fail: (err: unknown) => void;
}

interface TenantLane {
  open: number;
  readonly waiting: Waiting[];
  singlesUntil: number;
}

export function createTenantForwards(options: TenantForwardsOptions) {
  const lanes = new Map<string, TenantLane>();
  // Requests sent and the deliveries they carried, since start (`counts`: how much batching happens).
  const sent = { requests: 0, deliveries: 0 };
  const batchRetryMs = options.batchRetryMs ?? 10 * 60_000;
  const sendOptions = () => ({ timeoutMs: options.timeoutMs, now: options.now(), post: options.post });

  /** The next request's deliveries: the first waiting, and those after it for the same address and secret, within the limits. */
  function nextGroup(lane: TenantLane): Waiting[] {
    const first = lane.waiting.shift() as Waiting;
    const group = [first];
    if (Date.now() < lane.singlesUntil) return group;
    let bytes = first.forward.body.length;
    for (let i = 0; i < lane.waiting.length && group.length < options.deliveriesPerForward; ) {
      const next = lane.waiting[i] as Waiting;
      const fits = bytes + next.forward.body.length <= options.batchBytes;
      if (fits && next.forward.url === first.forward.url && next.forward.secrets.current === first.forward.secrets.current) {
        group.push(next);
        bytes += next.forward.body.length;
        lane.waiting.splice(i, 1);
      } else i++;
    }
    return group;
  }

  async function sendGroup(lane: TenantLane, candidates: readonly Waiting[]): Promise<void> {
    const ready = await Promise.all(candidates.map((w) => w.forward.ready().then((ok) => ok, (err: unknown) => (w.fail(err), undefined))));
    const group = candidates.filter((w, i) => {
      if (ready[i] === false) w.settle(undefined);
      return ready[i] === true;
    });
    if (group.length === 0) return;
    sent.requests++;
    sent.deliveries += group.length;
    const [head] = group as [Waiting];
    const { url, secrets, tenantId } = head.forward;
    const single = (w: Waiting) => sendForward(url, w.forward.id, w.forward.body, secrets, sendOptions()).then(w.settle, w.fail);
    if (group.length === 1) return single(head);
    const results = await forwardBatchToTenant(url, tenantId, { ids: group.map((w) => w.forward.id), bodies: group.map((w) => w.forward.body) }, secrets, sendOptions());
    const refused = results[0];
    if (refused?.kind === 'rejected' && (refused.status === 404 || refused.status === 405) && results.every((r) => r.kind === 'rejected' && r.status === refused.status)) {
      // No batch door on this tenant's runtime: these go one by one, and the next ones too for a while.
      lane.singlesUntil = Date.now() + batchRetryMs;
      sent.requests += group.length;
      sent.deliveries += group.length;
      await Promise.all(group.map(single));
      return;
    }
    group.forEach((w, i) => w.settle(results[i]));
  }

  function pump(tenantId: string, lane: TenantLane): void {
    while (lane.open < options.requestsPerTenant && lane.waiting.length > 0) {
      lane.open++;
      const group = nextGroup(lane);
      void sendGroup(lane, group)
        // Nothing settled is changed by this: it reaches only a delivery left waiting by an unexpected failure.
        .catch((err: unknown) => group.forEach((w) => w.fail(err)))
        .finally(() => {
          lane.open--;
          if (lane.waiting.length > 0) pump(tenantId, lane);
          else if (lane.open === 0 && Date.now() >= lane.singlesUntil) lanes.delete(tenantId);
        });
    }
  }

  return {
    /** Forward requests sent so far, and the deliveries they carried (a batch refused as such and sent again one by one counts each time). */
    counts: (): { readonly requests: number; readonly deliveries: number } => ({ ...sent }),
    /** Forwards one delivery; undefined when `ready` dropped it. Rejects only when `ready` failed. */
    send(forward: TenantForward): Promise<ForwardResult | undefined> {
      let lane = lanes.get(forward.tenantId);
      if (!lane) lanes.set(forward.tenantId, (lane = { open: 0, waiting: [], singlesUntil: 0 }));
      const joined = lane;
      return new Promise((settle, fail) => {
        joined.waiting.push({ forward, settle, fail });
        pump(forward.tenantId, joined);
      });
    },
  };
}
