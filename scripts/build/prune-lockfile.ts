/**
 * A package's own lockfile, cut from the repository's: the same resolved versions and layout, for
 * just the given dependencies and what they need (production only), so `npm ci --omit=dev` in
 * the package installs exactly what was tested here.
 */
interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { optional?: boolean }>>;
  readonly [key: string]: unknown;
}

export interface Lockfile {
  readonly name: string;
  readonly version: string;
  readonly lockfileVersion: number;
  readonly requires?: boolean;
  readonly packages: Readonly<Record<string, LockEntry>>;
}

/** Node's lookup: `<from>/node_modules/<name>`, then each enclosing `node_modules` up to the root. */
function resolve(packages: Lockfile['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

export function pruneLockfile(lock: Lockfile, root: { name: string; version: string; dependencies: Readonly<Record<string, string>> }): Lockfile {
  const kept: Record<string, LockEntry> = {};
  const pending: [string, string, boolean][] = Object.keys(root.dependencies).map((name) => ['', name, false]);
  while (pending.length > 0) {
    const [from, name, optional] = pending.pop() as [string, string, boolean];
    const key = resolve(lock.packages, from, name);
    if (!key) {
      if (optional) continue;
      throw new Error(`the lockfile has no ${name} for ${from || 'the root'}: run npm install`);
    }
    if (kept[key]) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[key] as LockEntry;
    kept[key] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) pending.push([key, dep, false]);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) pending.push([key, dep, true]);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) pending.push([key, dep, entry.peerDependenciesMeta?.[dep]?.optional === true]);
  }
  const sorted = Object.fromEntries(Object.keys(kept).sort().map((key) => [key, kept[key] as LockEntry]));
  return {
    name: root.name,
    version: root.version,
    lockfileVersion: lock.lockfileVersion,
    requires: true,
    packages: { '': { name: root.name, version: root.version, dependencies: root.dependencies }, ...sorted },
  };
}
