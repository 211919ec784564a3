/**
 * The GitHub double's control API (`/_double/…`, docs/github-double.md), called over HTTP the way
 * any script or test in any language would: users, repositories, files, installations, sign-in,
 * workflow runs and the dispatches GitHub accepted.
 */
export class DoubleControlError extends Error {
  override name = 'DoubleControlError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface StartedRun {
  readonly id: number;
  readonly attempt: number;
  readonly idTokenRequestUrl: string;
  readonly idTokenRequestToken: string;
}

export interface AcceptedDispatch {
  readonly repository: string;
  readonly event_type?: string;
  readonly eventType?: string;
  readonly client_payload?: Record<string, unknown>;
  readonly clientPayload?: Record<string, unknown>;
}

export function createDoubleControl(controlUrl: string) {
  const base = controlUrl.replace(/\/$/, '');
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new DoubleControlError(res.status, `${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    addUser: (login: string) => call<{ id: number; login: string }>('POST', '/users', { login }),
    addRepository: (owner: string, name: string) => call<{ id: number; full_name: string; default_branch: string }>('POST', '/repos', { owner, name }),
    putFile: (fullName: string, path: string, content: string) => call<unknown>('PUT', `/repos/${fullName}/contents/${path}`, { content }),
    install: (account: string, repositories: readonly string[] | 'all', installer: string) => call<{ id: number }>('POST', '/installations', { account, repositories, installer }),
    signInAs: (login: string) => call<unknown>('POST', '/sign-in-as', { login }),
    startRun: (fullName: string, run: { workflow: string; event?: string; displayTitle?: string; headBranch?: string }) => call<StartedRun>('POST', `/repos/${fullName}/runs`, run),
    completeRun: (fullName: string, runId: number, conclusion: string) => call<unknown>('POST', `/repos/${fullName}/runs/${runId}/complete`, { conclusion }),
    dispatches: (fullName: string) => call<AcceptedDispatch[]>('GET', `/dispatches?repository=${encodeURIComponent(fullName)}`),
  };
}

export type DoubleControl = ReturnType<typeof createDoubleControl>;
