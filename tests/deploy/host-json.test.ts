/**
 * host.json's queue trigger settings are the local host's: a delivery that waits at most a second
 * between polls here waits no longer on Azure (Functions' own default is a minute when idle).
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { queueTriggerSettings } from '../../runtime/local-host/poll-queue.ts';

/** `hh:mm:ss` or `hh:mm:ss.fff`, as host.json writes a TimeSpan, in ms. */
function timeSpanMs(value: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/.exec(value);
  if (!match) throw new Error(`not a host.json TimeSpan: ${value}`);
  const [, h, m, s, fraction] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Math.round(Number(fraction ?? 0) * 1000);
}

describe('host.json, against the local host', () => {
  it('polls queues as the local host does: the same batch, dequeue count and longest wait when idle', async () => {
    const host = JSON.parse(await readFile(new URL('../../host.json', import.meta.url), 'utf8')) as { extensions: { queues: Record<string, unknown> } };
    const queues = host.extensions.queues;
    expect(queues.batchSize).to.equal(queueTriggerSettings.batchSize);
    expect(queues.maxDequeueCount).to.equal(queueTriggerSettings.maxDequeueCount);
    expect(timeSpanMs(String(queues.maxPollingInterval))).to.equal(queueTriggerSettings.maxPollMs);
  });

  it('reads TimeSpans as host.json writes them, and refuses anything else', () => {
    expect(timeSpanMs('00:00:01')).to.equal(1000);
    expect(timeSpanMs('00:01:00.5')).to.equal(60_500);
    expect(() => timeSpanMs('1s')).to.throw('not a host.json TimeSpan');
  });
});
