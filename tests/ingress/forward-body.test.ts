/**
 * The forward's body (forward-to-tenant.ts `forwardBody`): the router writes it around the payload
 * text GitHub sent instead of parsing and re-serializing it; what the tenant parses is the same
 * delivery either way, with the payload exactly as GitHub sent it.
 */
import { expect } from 'chai';
import { forwardBody, type ForwardedDelivery } from '../../runtime/ingress/forward-to-tenant.ts';
import { workflowRunPayload } from '../fixtures/index.ts';

describe('ingress: the forward body around the payload as received', () => {
  const envelope = { id: 'd-1', event: 'workflow_run', action: 'completed', installationId: 4242, tenantId: 'acme', receivedAt: '2026-12-02T10:00:00.000Z' };

  it('parses to the same delivery as the one serialized whole', () => {
    const payload = workflowRunPayload();
    const whole: ForwardedDelivery = { ...envelope, payload };
    const spliced = forwardBody({ ...envelope, payloadText: JSON.stringify(payload) });
    expect(JSON.parse(spliced)).to.deep.equal(JSON.parse(forwardBody(whole)));
    expect(JSON.parse(spliced).payload).to.deep.equal(payload);
  });

  it('keeps the payload text as sent, spacing and unicode included', () => {
    const payloadText = '{ "action": "completed",\n  "note": "caf\\u00e9 ☕ \\"quoted\\"", "n": 1e3 }';
    const body = forwardBody({ ...envelope, payloadText });
    expect(body.endsWith(`"payload":${payloadText}}`)).to.equal(true);
    expect(JSON.parse(body)).to.deep.equal({ ...envelope, payload: JSON.parse(payloadText) });
  });
});
