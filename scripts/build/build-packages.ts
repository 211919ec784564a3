/**
 * `npm run build`, after the type check: one folder per deployable package under `dist/packages/`
 * — the compiled modules its entry reaches, its assets, `host.json` for a Functions app, a package.json
 * naming only the npm packages those modules import (each must be a production dependency of the
 * repository, with the repository's exact version) and a lockfile cut from the repository's.
 * `npm ci --omit=dev` in a package folder is then all it needs to run.
 */
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deployablePackages, packageDir, type DeployablePackage } from './deployable-packages.ts';
import { moduleClosure } from './module-closure.ts';
import { pruneLockfile, type Lockfile } from './prune-lockfile.ts';

interface RootManifest {
  readonly name: string;
  readonly version: string;
  readonly engines?: Readonly<Record<string, string>>;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly allowScripts?: Readonly<Record<string, boolean>>;
}

const compiled = (source: string) => source.replace(/\.ts$/, '.js');

async function copyKeepingMode(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await copyFile(from, to);
  await chmod(to, (await stat(from)).mode);
}

/** Writes one package into `out` (emptied first); returns `out`. */
export async function buildPackage(spec: DeployablePackage, root: RootManifest, lock: Lockfile, out: string): Promise<string> {
  const closure = moduleClosure(spec.entry);
  const missing = [...closure.packages].filter((name) => !root.dependencies[name]);
  if (missing.length > 0) {
    const dev = missing.filter((name) => root.devDependencies?.[name]);
    throw new Error(
      `${spec.name}: ${spec.entry} imports ${missing.join(', ')}, not production dependencies` +
        (dev.length ? ` (${dev.join(', ')} ${dev.length === 1 ? 'is a devDependency' : 'are devDependencies'})` : ''),
    );
  }
  await rm(out, { recursive: true, force: true });
  for (const [file, text] of closure.files) {
    await mkdir(path.dirname(path.join(out, file)), { recursive: true });
    await writeFile(path.join(out, file), text);
  }
  for (const asset of spec.assets) await copyKeepingMode(asset, path.join(out, asset));
  if (spec.functionsApp) await copyFile('host.json', path.join(out, 'host.json'));
  const dependencies = Object.fromEntries([...closure.packages].sort().map((name) => [name, root.dependencies[name] as string]));
  const name = `zekt-${spec.name}`;
  const allowScripts = Object.fromEntries(Object.entries(root.allowScripts ?? {}).filter(([pkg]) => pkg !== 'node'));
  const manifest = {
    name,
    version: root.version,
    private: true,
    type: 'module',
    main: compiled(spec.entry),
    ...(root.engines ? { engines: root.engines } : {}),
    dependencies,
    ...(Object.keys(allowScripts).length ? { allowScripts } : {}),
  };
  await writeFile(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const packageLock = pruneLockfile(lock, { name, version: root.version, dependencies });
  await writeFile(path.join(out, 'package-lock.json'), `${JSON.stringify(packageLock, null, 2)}\n`);
  return out;
}

/** Builds every deployable package from a `tsc` output; returns their folders. */
export async function buildPackages(options: { readonly outRoot?: string } = {}): Promise<Record<string, string>> {
  const [root, lock] = await Promise.all([
    readFile('package.json', 'utf8').then((t) => JSON.parse(t) as RootManifest),
    readFile('package-lock.json', 'utf8').then((t) => JSON.parse(t) as Lockfile),
  ]);
  const built: Record<string, string> = {};
  for (const spec of deployablePackages) {
    const out = options.outRoot ? path.join(options.outRoot, spec.name) : packageDir(spec.name);
    built[spec.name] = await buildPackage(spec, root, lock, out);
  }
  return built;
}

