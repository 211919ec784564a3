/**
 * Where the Pulumi engine (CLI) lives. The Automation API drives the CLI; no registry here ships
 * it, so `npm run setup` obtains it (cache → official download → Go build) into a cache outside
 * the clone, keyed by version. This module only finds it, and says what to run when it is missing.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The engine version; `@pulumi/pulumi` in package.json is pinned to the same. */
export const pulumiEngineVersion = '3.259.0';

/** Thrown when no engine is installed; names the set-up step. */
export class PulumiEngineMissingError extends Error {
  override name = 'PulumiEngineMissingError';
}

/**
 * The folder of one engine version under the cache (`ZEKT_CACHE_DIR`, read by the config module):
 * `<root>/bin/pulumi`, the layout `PulumiCommand.get` expects.
 */
export function engineRoot(cacheDir: string, version = pulumiEngineVersion): string {
  return path.join(cacheDir, 'pulumi', `v${version}`);
}

/** Folder with the committed `pulumi-resource-pulumi-nodejs` launcher for dynamic providers. */
export const engineLauncherDir = fileURLToPath(new URL('./bin/', import.meta.url));

export async function locatePulumiEngine(cacheDir: string): Promise<string> {
  const root = engineRoot(cacheDir);
  try {
    await access(path.join(root, 'bin', 'pulumi'), constants.X_OK);
    return root;
  } catch (err) {
    throw new PulumiEngineMissingError(
      `the Pulumi engine v${pulumiEngineVersion} is not installed at ${root}/bin/pulumi; run \`npm run setup\``,
      { cause: err },
    );
  }
}
