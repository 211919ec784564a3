/**
 * `mode: send`: the provider run posts one JSON message to its tenant's messages URL with its own
 * OIDC token. The message is checked to be JSON before anything is sent; it is never printed.
 */
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { ZektCallError, callZekt, retryDelaysOf } from './http-with-retry.ts';

export async function sendMessage(): Promise<void> {
  const endpoint = core.getInput('endpoint', { required: true }).replace(/\/$/, '');
  const audience = core.getInput('audience', { required: true });
  const inline = core.getInput('message');
  const file = core.getInput('message-file');
  const name = core.getInput('name');
  if (Boolean(inline) === Boolean(file)) throw new ZektCallError('give exactly one of `message` and `message-file`');
  const body = inline || (await readFile(file, 'utf8'));
  try {
    JSON.parse(body);
  } catch {
    throw new ZektCallError(`the message ${file ? `in ${file} ` : ''}is not JSON`);
  }
  const url = `${endpoint}${name ? `?name=${encodeURIComponent(name)}` : ''}`;
  const { bytes } = await callZekt({ url, method: 'POST', audience, body, retryDelays: retryDelaysOf(core.getInput('retry-delays') || '1,3,9'), what: 'sending the message' });
  const reference = JSON.parse(bytes.toString('utf8')) as { id: string; sha256: string; size: number; expiresAt: string };
  core.setOutput('message-id', reference.id);
  core.setOutput('sha256', reference.sha256);
  core.info(`message ${reference.id}${name ? ` (${name})` : ''} stored: ${reference.size} bytes, kept until ${reference.expiresAt}`);
}
