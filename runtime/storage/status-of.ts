/**
 * The HTTP status an Azure SDK call failed with (`RestError.statusCode`), or undefined for a
 * failure that never got an answer. Storage and Key Vault callers branch on 404 / 409 / 412.
 */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
