/**
 * `npm run setup`: obtains what the project needs beyond `npm ci` — the Pulumi engine, and Debian's
 * `chromium` for the console's browser tests (`apt-get install chromium` when it is missing and
 * this runs as root; no browser is downloaded from anywhere else). For the engine, in order: an engine of the pinned version already cached; the official download
 * (`PulumiCommand.install`); a build from the Go module proxy with the committed tools module
 * (`tools/pulumi-engine`). Says where the engine came from; fails naming what is missing.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import * as semver from 'semver';
import { engineRoot, locatePulumiEngine, pulumiEngineVersion } from '../automation/engine/pulumi-engine.ts';
import { loadEngineConfig } from '../runtime/config.ts';
import { findChromium } from './find-chromium.ts';

const run = promisify(execFile);
const { cacheDir, searchPath } = loadEngineConfig(process.env);
const root = engineRoot(cacheDir);
const version = pulumiEngineVersion;

async function cached(): Promise<boolean> {
  try {
    await locatePulumiEngine(cacheDir);
    return true;
  } catch {
    return false;
  }
}

async function download(): Promise<boolean> {
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 60_000).unref());
    await Promise.race([PulumiCommand.install({ root, version: semver.parse(version) as semver.SemVer }), timeout]);
    return cached();
  } catch (err) {
    console.log(`setup: official download unavailable (${(err as Error).message.split('\n')[0]})`);
    return false;
  }
}

async function goBuild(): Promise<boolean> {
  try {
    await run('go', ['version']);
  } catch {
    console.log('setup: no Go toolchain on PATH');
    return false;
  }
  const tools = path.resolve('tools/pulumi-engine');
  await mkdir(path.join(root, 'bin'), { recursive: true });
  const out = path.join(root, 'bin', 'pulumi');
  console.log(`setup: building the Pulumi engine v${version} from the Go module proxy (a few minutes the first time)`);
  try {
    await run(
      'go',
      [
        'build',
        // Fetches what go.sum names rather than needing a vendored tree.
        '-mod=mod',
        '-tags', 'osusergo',
        '-ldflags', `-X=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
        '-o', out,
        'github.com/pulumi/pulumi/pkg/v3/cmd/pulumi',
      ],
      { cwd: tools, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (err) {
    await rm(out, { force: true });
    console.log(`setup: go build failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
    return false;
  }
  return cached();
}

/** Debian's chromium for the browser tests; only root may install it (CI runs as root). */
async function chromium(): Promise<void> {
  const found = await findChromium(searchPath);
  if (found) return console.log(`setup: chromium found at ${found}`);
  if (process.getuid?.() !== 0) {
    console.log('setup: chromium is missing; the console browser tests need it: sudo apt-get update && sudo apt-get install -y chromium');
    return;
  }
  console.log('setup: installing chromium with apt-get (for the console browser tests)');
  try {
    await run('sh', ['-c', 'apt-get update && apt-get install -y chromium'], {
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: searchPath, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    console.log(`setup: apt-get install chromium failed: ${(err as { stderr?: string }).stderr?.split('\n').slice(-3).join(' ') ?? (err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const installed = await findChromium(searchPath);
  if (!installed) {
    console.log('setup: apt-get finished but no chromium is on PATH');
    process.exitCode = 1;
    return;
  }
  console.log(`setup: chromium installed at ${installed}`);
}

async function engine(): Promise<void> {
  if (await cached()) return console.log(`setup: Pulumi engine v${version} found in cache at ${root}`);
  if (await download()) return console.log(`setup: Pulumi engine v${version} downloaded to ${root}`);
  if (await goBuild()) return console.log(`setup: Pulumi engine v${version} built from source into ${root}`);
  console.error(
    `setup: could not obtain the Pulumi engine v${version}: no cached engine at ${root}, the official download failed, ` +
      'and no Go toolchain could build it. Install Go (https://go.dev/dl/) or place the CLI at ' +
      `${path.join(root, 'bin', 'pulumi')}.`,
  );
  process.exitCode = 1;
}

await engine();
await chromium();
