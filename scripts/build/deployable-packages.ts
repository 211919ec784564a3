/**
 * What `npm run build` ships: each deployable package, its entry (compiled to JavaScript) and the
 * files it needs besides the modules its entry imports. The build, the Dockerfile and the tests
 * read this one list.
 */
export interface DeployablePackage {
  /** Folder under `dist/packages/`, and the package name after `zekt-`. */
  readonly name: string;
  /** The source entry (`.ts`); the package's `main` is its compiled `.js`. */
  readonly entry: string;
  /** A Functions app gets `host.json`; the Functions host loads `main`. */
  readonly functionsApp: boolean;
  /** Files copied as they are (not imported, but read or run at runtime). */
  readonly assets: readonly string[];
}

export const deployablePackages: readonly DeployablePackage[] = [
  { name: 'platform-app', entry: 'runtime/azure/platform-app.ts', functionsApp: true, assets: [] },
  { name: 'tenant-app', entry: 'runtime/azure/tenant-app.ts', functionsApp: true, assets: [] },
  {
    name: 'provisioning-worker',
    entry: 'automation/worker-main.ts',
    functionsApp: false,
    // The engine starts dynamic providers through this launcher, found on its PATH.
    assets: ['automation/engine/bin/pulumi-resource-pulumi-nodejs', 'automation/engine/dynamic-provider-host.mjs'],
  },
];

/** Where the build puts a package. */
export function packageDir(name: string): string {
  return `dist/packages/${name}`;
}
