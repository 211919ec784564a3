/** The Zekt GitHub Action's entry: `mode: send` or `mode: receive` (action.yml, docs/action.md). */
import * as core from '@actions/core';
import { receiveEvent } from './receive-event.ts';
import { sendMessage } from './send-message.ts';

async function main(): Promise<void> {
  const mode = core.getInput('mode', { required: true });
  if (mode === 'send') return sendMessage();
  if (mode === 'receive') return receiveEvent();
  throw new Error('mode must be `send` or `receive`');
}

main().catch((err: unknown) => core.setFailed(err instanceof Error ? err.message : String(err)));
