/**
 * Bundles the Action (action/src → action/dist/index.js) with esbuild, as JavaScript actions ship:
 * one file, its dependencies inside, nothing to install on the runner. `npm run build:action`
 * writes it; tests/action/bundle.test.ts builds it again in memory and fails when the committed
 * bundle is stale.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

export const actionBundle = path.join(here, 'dist', 'index.js');

export const actionBuildOptions: BuildOptions = {
  entryPoints: [path.join(here, 'src', 'index.ts')],
  bundle: true,
  platform: 'node',
  // runs.using: node24 (tests run it on the repository's Node 22, which this target also covers).
  target: 'node22',
  format: 'esm',
  // Some bundled CommonJS code calls require(); give the ES module one.
  banner: { js: "import { createRequire as __zektCreateRequire } from 'node:module';\nconst require = __zektCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ ...actionBuildOptions, outfile: actionBundle });
  console.log(`wrote ${path.relative(process.cwd(), actionBundle)}`);
}
