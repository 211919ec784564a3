/**
 * What a customer is told about a failed tenant: a stable reason code, one plain sentence and the
 * error's reference — never the engine's output, which can name resources, paths and internals.
 * The operator looks the reference up with `zekt tenants show <id>`, which keeps the detail.
 */
import { errorReference } from '../../automation/error-reference.ts';
import type { RecordedError } from '../../automation/tenant-registry.ts';

export interface CustomerReason {
  /** Stable, for programs: `provisioning-timed-out` or `provisioning-failed`. */
  readonly reason: 'provisioning-timed-out' | 'provisioning-failed';
  readonly message: string;
  /** Quote it to support: it names the detailed error on the operator's side. */
  readonly reference: string;
}

export function customerReason(error: RecordedError): CustomerReason {
  const reference = errorReference(error);
  if (error.name === 'StackOperationTimeoutError') {
    return { reason: 'provisioning-timed-out', message: 'Setting up the tenant took too long and was stopped. Sign up again to retry.', reference };
  }
  return { reason: 'provisioning-failed', message: 'Setting up the tenant failed. Sign up again to retry, or contact support with the reference.', reference };
}
