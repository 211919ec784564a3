/**
 * Zekt's Standard Webhooks signatures (runtime/ingress/standard-webhooks.ts) against the
 * reference implementation, the `standardwebhooks` package: what one signs the other verifies,
 * and both refuse the same things.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { signMessage, verifyMessage, WebhookVerificationError } from '../../runtime/ingress/standard-webhooks.ts';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify({ id: 'd-1', payload: { text: 'é ✓ '.repeat(2000) } });

describe('Standard Webhooks signatures, against the reference library', () => {
  it('signs as the reference does, and each verifies what the other signed', () => {
    const secret = newSecret();
    const at = new Date();
    const ours = signMessage(secret, 'msg_1', at, body);
    expect(ours).to.equal(new Webhook(secret).sign('msg_1', at, body));
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': ours };
    expect(new Webhook(secret).verify(body, headers)).to.deep.equal(JSON.parse(body));
    expect(() => verifyMessage([secret], { ...headers, 'webhook-signature': new Webhook(secret).sign('msg_1', at, body) }, Buffer.from(body))).not.to.throw();
    // A secret without its prefix is the same key.
    expect(signMessage(secret.slice('whsec_'.length), 'msg_1', at, body)).to.equal(ours);
  });

  it('takes any v1 signature of the header with any of the secrets (a rotation), and skips other versions', () => {
    const [a, b] = [newSecret(), newSecret()];
    const at = new Date();
    const header = `v2,${'x'.repeat(44)} ${signMessage(a, 'msg_2', at, body)} ${signMessage(b, 'msg_2', at, body)}`;
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': header };
    expect(() => verifyMessage([b], headers, Buffer.from(body))).not.to.throw();
    expect(() => verifyMessage([newSecret(), a], headers, Buffer.from(body))).not.to.throw();
    expect(() => verifyMessage([newSecret()], headers, Buffer.from(body))).to.throw(WebhookVerificationError, 'No matching signature found');
  });

  it('refuses what the reference refuses, with its reasons', () => {
    const secret = newSecret();
    const now = new Date();
    const stamp = (at: Date) => String(Math.floor(at.getTime() / 1000));
    const signed = (id: string, at: Date, text: string) => ({ 'webhook-id': id, 'webhook-timestamp': stamp(at), 'webhook-signature': signMessage(secret, id, at, text) });
    const cases: [string, { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string }, string][] = [
      ['No matching signature found', signed('msg_3', now, `${body} `), body],
      ['No matching signature found', { ...signed('msg_3', now, body), 'webhook-id': 'msg_4' }, body],
      ['Message timestamp too old', signed('msg_3', new Date(now.getTime() - 301_000), body), body],
      ['Message timestamp too new', signed('msg_3', new Date(now.getTime() + 301_000), body), body],
      ['Invalid Signature Headers', { ...signed('msg_3', now, body), 'webhook-timestamp': 'soon' }, body],
      ['Missing required headers', { ...signed('msg_3', now, body), 'webhook-signature': '' }, body],
    ];
    for (const [reason, headers, text] of cases) {
      expect(() => new Webhook(secret).verify(text, headers), `reference: ${reason}`).to.throw(reason);
      expect(() => verifyMessage([secret], headers, Buffer.from(text)), reason).to.throw(WebhookVerificationError, reason);
    }
  });

  it('refuses an empty secret', () => {
    expect(() => signMessage('whsec_', 'msg_5', new Date(), body)).to.throw('must not be empty');
  });
});
