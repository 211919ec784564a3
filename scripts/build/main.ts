/** `npm run build` after the type check: the deployable packages under `dist/packages/`. */
import { buildPackages } from './build-packages.ts';

for (const [name, out] of Object.entries(await buildPackages())) console.log(`build: ${name} → ${out}`);
