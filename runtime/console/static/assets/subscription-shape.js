// Reads GET /api/tenant/subscriptions leniently, so the pages bind to the orchestration API as it
// lands: { consumers: [{ repository, path?, syncedAt?, subscriptions|entries: [...], errors: [{ message, line, column }] }] }.

export function repositoryName(repository) {
  if (!repository) return '';
  return typeof repository === 'string' ? repository : repository.fullName ?? repository.full_name ?? String(repository.id ?? '');
}

export function providerName(entry) {
  return repositoryName(entry.provider ?? entry.repository);
}

export function consumersOf(data) {
  const list = Array.isArray(data) ? data : data?.consumers ?? [];
  return list.map((c) => ({
    repository: c.repository ?? c.consumer,
    path: c.path ?? '.github/zekt.yml',
    syncedAt: c.syncedAt ?? c.synced_at,
    entries: c.subscriptions ?? c.entries ?? [],
    errors: c.errors ?? [],
  }));
}
