/**
 * Prints the GitHub App manifest for a deployment, before the platform exists, so the App can be
 * registered first and its secrets set as config:
 *   npx tsx platform/render-github-app-manifest.ts https://zekt.example.org
 *   npx tsx platform/render-github-app-manifest.ts --environment prod   (default *.azurewebsites.net host)
 */
import { githubAppManifest } from './github-app-manifest.ts';
import { platformResourceNames } from './platform-names.ts';

function baseUrlFrom(argv: readonly string[]): string {
  const [first, second] = argv;
  if (first === '--environment' && second) return `https://${platformResourceNames(second).functionApp}.azurewebsites.net`;
  if (first && /^https:\/\/[^/\s]+\/?$/.test(first)) return first;
  throw new Error('usage: render-github-app-manifest.ts <https://public-base-url> | --environment <name>');
}

console.log(JSON.stringify(githubAppManifest(baseUrlFrom(process.argv.slice(2))), null, 2));
