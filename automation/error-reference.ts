/**
 * The reference of a recorded error: a short id derived from the error itself (when, what class,
 * what text), so the customer's view and the operator's `zekt tenants show` name the same one
 * without storing anything more, and it changes only when the error does.
 */
import { createHash } from 'node:crypto';
import type { RecordedError } from './tenant-registry.ts';

export function errorReference(error: RecordedError): string {
  const digest = createHash('sha256').update(`${error.at}|${error.name}|${error.message}`).digest('hex');
  return `zk-${digest.slice(0, 10)}`;
}
