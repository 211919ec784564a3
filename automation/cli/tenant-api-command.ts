/**
 * What `zekt events`, `zekt dispatches` and `zekt subscriptions` share: the `--tenant` and
 * `--json` options, and one mapping from failures to messages and exit codes (those of
 * `zekt tenants`): 1 failed, 2 refused as invalid by the tenant runtime (400), 3 no such tenant,
 * event or delivery, 4 refused in its current state (409), 6 the platform or the tenant runtime
 * cannot be reached.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { InvalidTenantIdError, assertTenantId } from '../../tenant-stack/tenant-id.ts';
import { TenantNotFoundError } from '../tenant-registry.ts';
import { exitCodes } from './tenants-command.ts';
import { TenantApiError, TenantApiUnavailableError, type TenantApiClient } from './tenant-api-client.ts';

export interface TenantApiCommandDeps {
  /** Opened on first use (settings are read only when a command runs). */
  readonly tenantApi: () => Promise<TenantApiClient>;
  readonly out: (line: string) => void;
  readonly setExitCode: (code: number) => void;
  /** Error classes that mean "the platform cannot be reached" (exit 6). */
  readonly unavailable?: readonly (new (...args: never[]) => Error)[];
}

export interface TenantOptions {
  readonly tenant: string;
  readonly json?: boolean;
}

function tenantId(value: string): string {
  try {
    assertTenantId(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** Adds `--tenant <id>` (required) and `--json` to a subcommand. */
export const withTenant = (command: Command) => command.requiredOption('--tenant <id>', 'the tenant', tenantId).option('--json', 'the JSON the tenant runtime answered');

/** Positive whole numbers up to `max` (`--limit`). */
export const upTo = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return n;
};

function exitCodeOf(err: unknown, deps: TenantApiCommandDeps): number {
  if (err instanceof TenantNotFoundError) return exitCodes.notFound;
  if (err instanceof InvalidTenantIdError) return exitCodes.invalid;
  if (err instanceof TenantApiUnavailableError) return exitCodes.unavailable;
  if (err instanceof TenantApiError) {
    if (err.status === 404) return exitCodes.notFound;
    if (err.status === 409) return exitCodes.refused;
    if (err.status === 400) return exitCodes.invalid;
    return err.status === 502 || err.status === 503 || err.status === 504 ? exitCodes.unavailable : exitCodes.failed;
  }
  return deps.unavailable?.some((type) => err instanceof type) ? exitCodes.unavailable : exitCodes.failed;
}

/** Runs one command's body; prints a failure as `error: …` (or `{"error": …}` with --json) and sets the exit code. */
export async function runTenantApi(deps: TenantApiCommandDeps, opts: TenantOptions, body: (api: TenantApiClient) => Promise<void>): Promise<void> {
  try {
    await body(await deps.tenantApi());
  } catch (err) {
    const message = err instanceof TenantNotFoundError ? `no tenant ${opts.tenant} (see \`zekt tenants list\`)` : (err as Error).message;
    const status = err instanceof TenantApiError ? err.status : undefined;
    deps.out(opts.json ? JSON.stringify({ error: { name: (err as Error).name, message, ...(status ? { status } : {}) } }) : `error: ${message}`);
    deps.setExitCode(exitCodeOf(err, deps));
  }
}
