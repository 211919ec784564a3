/**
 * Turns a validated file's repository names into ids, over the repositories of the tenant's
 * installations only: a provider (or an allowed consumer) outside them is an error at its line, so
 * a consumer can never subscribe to a repository outside its tenant. Pure: no I/O.
 */
import type { FileError, ParsedZektFile } from './parse-zekt-file.ts';
import type { PublishPolicy, RepositoryRef, Subscription } from './subscription-index.ts';

export type ResolvedZektFile =
  | { readonly ok: true; readonly subscriptions: readonly Subscription[]; readonly publish: PublishPolicy | undefined }
  | { readonly ok: false; readonly errors: readonly FileError[] };

/** The repositories of the tenant's installations, by lower-case full name (GitHub names ignore case). */
export type TenantRepositories = ReadonlyMap<string, RepositoryRef>;

export const defaultConclusions: readonly string[] = ['success'];

export function resolveZektFile(parsed: Extract<ParsedZektFile, { ok: true }>, self: RepositoryRef, repositories: TenantRepositories): ResolvedZektFile {
  const errors: FileError[] = [];
  const find = (name: string, path: (string | number)[], role: string): RepositoryRef | undefined => {
    const found = repositories.get(name.toLowerCase());
    if (!found) errors.push({ ...parsed.positionOf(path), path: `/${path.join('/')}`, message: `${role} ${name} is not a repository of this tenant's installations` });
    return found;
  };
  const subscriptions: Subscription[] = [];
  (parsed.file.subscriptions ?? []).forEach((entry, i) => {
    const provider = find(entry.provider, ['subscriptions', i, 'provider'], 'provider');
    if (!provider) return;
    if (provider.id === self.id) {
      // Its own runs would dispatch to itself, whose runs would dispatch again.
      errors.push({ ...parsed.positionOf(['subscriptions', i, 'provider']), path: `/subscriptions/${i}/provider`, message: 'a repository cannot subscribe to itself' });
      return;
    }
    subscriptions.push({
      consumer: self,
      provider,
      ...(entry.workflows ? { workflows: [...entry.workflows] } : {}),
      conclusions: [...(entry.conclusions ?? defaultConclusions)],
      ...(entry.branches ? { branches: [...entry.branches] } : {}),
      ...(entry.event_type ? { eventType: entry.event_type } : {}),
    });
  });
  const publish = parsed.file.publish;
  const consumers = publish?.consumers?.map((name, j) => find(name, ['publish', 'consumers', j], 'consumer')?.id);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    subscriptions,
    publish: publish
      ? { provider: self, consumers: consumers ? (consumers as number[]) : 'all', settledReport: publish.settled_report ?? false }
      : undefined,
  };
}
