/**
 * The one HTTP helper of the local target's dynamic providers. Pulumi serialises each provider's
 * code, with everything its closures capture, into the stack state and runs it in the dynamic
 * provider plugin process; so this function captures nothing but globals (`fetch`), and the
 * manager's URL and admin token arrive as resource inputs (the token as a Pulumi secret), never
 * through a closure.
 */

/** Inputs every local resource carries to reach the resource manager. */
export interface ManagerInputs {
  readonly managerUrl: string;
  /** The manager's admin token; a Pulumi secret input, encrypted in the state. */
  readonly managerToken: string;
}

/**
 * Calls the resource manager. Resolves to the JSON body, or `undefined` for a 404 (the resource
 * does not exist: a read reports it gone, a delete treats it as done). Any other failure throws
 * with the status and the manager's error text, which never contains a secret.
 */
export async function requestResourceManager<T>(
  manager: ManagerInputs,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T | undefined> {
  const response = await fetch(`${manager.managerUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${manager.managerToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    // Starting an Azurite or a runtime takes seconds; a hung manager must not hang the update.
    signal: AbortSignal.timeout(120_000),
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    throw new Error(`resource manager ${method} ${path} failed: ${response.status} ${reason}`);
  }
  return (text ? JSON.parse(text) : undefined) as T | undefined;
}

/** The keys whose values differ between old state and new inputs (compared as JSON). */
export function changed<T extends object>(olds: Partial<T>, news: T, keys: readonly (keyof T & string)[]): string[] {
  return keys.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
}
