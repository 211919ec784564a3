/**
 * `zekt subscriptions list|sync --tenant <id>` — what each repository's `.github/zekt.yml`
 * subscribes to, with the errors of a refused file (line and column), and an on-demand sync of
 * every repository or one (`GET /api/subscriptions`, `POST /api/subscriptions/sync`;
 * docs/subscriptions.md).
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatTable } from './format-table.ts';
import { runTenantApi, withTenant, type TenantApiCommandDeps, type TenantOptions } from './tenant-api-command.ts';

interface Ref {
  readonly id: number;
  readonly fullName: string;
}

export interface RepositoryView {
  readonly repository: Ref;
  readonly outcome: string;
  readonly lastSyncAt?: string;
  readonly lastError?: string;
  readonly errors: readonly { readonly line: number; readonly column: number; readonly message: string }[];
  readonly subscriptions: readonly { readonly provider: Ref; readonly workflows?: readonly string[] }[];
  readonly publish: { readonly consumers: readonly number[] | 'all'; readonly settledReport: boolean } | null;
}

function repository(value: string): string {
  if (!/^[\w.-]+\/[\w.-]+$/.test(value)) throw new InvalidArgumentError('a repository as owner/repo');
  return value;
}

function print(out: (line: string) => void, repositories: readonly RepositoryView[]): void {
  if (repositories.length === 0) return out('no repositories');
  const rows = repositories.map((r) => [
    r.repository.fullName,
    r.outcome,
    r.subscriptions.map((s) => `${s.provider.fullName}${s.workflows?.length ? `:${s.workflows.join(',')}` : ''}`).join(' '),
    r.publish ? `${r.publish.consumers === 'all' ? 'all' : `${r.publish.consumers.length} consumers`}${r.publish.settledReport ? ', settled report' : ''}` : null,
    r.lastSyncAt,
  ]);
  for (const line of formatTable(['REPOSITORY', 'FILE', 'SUBSCRIBES TO', 'PUBLISHES TO', 'SYNCED'], rows)) out(line);
  for (const r of repositories) {
    for (const e of r.errors) out(`${r.repository.fullName}:.github/zekt.yml:${e.line}:${e.column}: ${e.message}`);
    if (r.lastError) out(`${r.repository.fullName}: ${r.lastError}`);
  }
}

export function subscriptionsCommand(deps: TenantApiCommandDeps): Command {
  const command = new Command('subscriptions').description("a tenant's subscriptions as code (.github/zekt.yml)");

  withTenant(command.command('list').description('each repository: its file, what it subscribes to, its errors')).action(async (opts: TenantOptions) =>
    runTenantApi(deps, opts, async (api) => {
      const view = await api.get<{ installations: number[]; repositories: RepositoryView[] }>(opts.tenant, 'subscriptions');
      if (opts.json) return deps.out(JSON.stringify(view));
      print(deps.out, view.repositories);
    }),
  );

  withTenant(command.command('sync').description('read the files again now: every repository, or the one named'))
    .option('--repository <owner/repo>', 'only this repository', repository)
    .action(async (opts: TenantOptions & { repository?: string }) =>
      runTenantApi(deps, opts, async (api) => {
        const result = await api.post<{ repositories: RepositoryView[]; removed: Ref[] }>(opts.tenant, 'subscriptions/sync', opts.repository ? { repository: opts.repository } : undefined);
        if (opts.json) return deps.out(JSON.stringify(result));
        deps.out(`synced ${result.repositories.length} ${result.repositories.length === 1 ? 'repository' : 'repositories'}`);
        print(deps.out, result.repositories);
        for (const r of result.removed) deps.out(`removed ${r.fullName} (no longer in the installations)`);
      }),
    );

  return command;
}
