// Reads GET /api/tenant/subscriptions (docs/subscriptions.md): { repositories: [{ repository: { id, fullName },
// lastSyncAt, outcome, errors: [{ line, column, message }], subscriptions: [...] }] }.

export function repositoryName(repository) {
  if (!repository) return '';
  return typeof repository === 'string' ? repository : repository.fullName ?? repository.full_name ?? String(repository.id ?? '');
}

export function providerName(entry) {
  return repositoryName(entry.provider ?? entry.repository);
}

export function consumersOf(data) {
  const list = Array.isArray(data) ? data : data?.repositories ?? data?.consumers ?? [];
  return list.map((c) => ({
    repository: c.repository ?? c.consumer,
    path: c.path ?? '.github/zekt.yml',
    syncedAt: c.lastSyncAt ?? c.syncedAt ?? c.synced_at,
    entries: c.subscriptions ?? c.entries ?? [],
    errors: c.errors ?? [],
  })).filter((c) => c.entries.length > 0 || c.errors.length > 0); // a repository whose file subscribes, or was refused
}
