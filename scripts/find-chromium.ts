/**
 * Where Debian's `chromium` is: the browser the console's browser tests drive (through
 * `playwright-core`, which downloads no browser of its own). Looked up on `PATH` like a shell would.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

export const chromiumNames = ['chromium', 'chromium-browser'] as const;

export async function findChromium(searchPath: string | undefined): Promise<string | undefined> {
  for (const dir of (searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of chromiumNames) {
      const candidate = path.join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
