/**
 * Opens a tenant's stack on the Automation API: a `LocalWorkspace` with the tenant program inline
 * (the Node.js language host is not installed here, so inline programs are the only kind the
 * control plane runs), in a work directory of its own (parallel inline programs in one process
 * are supported; a shared work directory would race on `Pulumi.<stack>.yaml`), on the built
 * engine (`PulumiCommand.get({ root })`), with the backend and secrets provider from settings set
 * on the workspace and on the stack. Whether the stack is created or selected is the registry's
 * decision, passed in as `mode`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalWorkspace, PulumiCommand, Stack, StackAlreadyExistsError, StackNotFoundError, type PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { engineLauncherDir } from './engine/pulumi-engine.ts';
import { tenantStackName } from '../tenant-stack/tenant-id.ts';

/** The Pulumi project every tenant stack belongs to. */
export const tenantProjectName = 'zekt-tenant';

/** The registry says the stack exists, the backend does not have it: state was lost. */
export class StackMissingError extends Error {
  override name = 'StackMissingError';
}

export interface StackWorkspaceSettings {
  /** Absolute state dir: work directories and `PULUMI_HOME` go below it. */
  readonly stateDir: string;
  /** `file://…` or `azblob://…`. */
  readonly backendUrl: string;
  /** `passphrase` or `azurekeyvault://…`. */
  readonly secretsProvider: string;
  /** The engine's root (`<root>/bin/pulumi`), from `locatePulumiEngine`. */
  readonly engineRoot: string;
  /** Folder of the Node binary the dynamic-provider plugin runs on. */
  readonly nodeDir: string;
  /** The platform process's PATH, appended after the launcher and Node folders. */
  readonly searchPath: string;
  /** Extra variables for the engine: the passphrase (in memory only), Azure storage account… */
  readonly env: Readonly<Record<string, string>>;
}

export interface OpenStackOptions {
  readonly mode: 'create' | 'select';
  readonly program: PulumiFn;
  /** Plain (non-secret) stack config, written to the stack's settings (`zekt:<key>`). */
  readonly config: Readonly<Record<string, string>>;
}

export interface StackWorkspaces {
  /** Creates (adopting a stack that already exists) or selects the tenant's stack. */
  open(tenantId: string, options: OpenStackOptions): Promise<Stack>;
  workDir(tenantId: string): string;
}

export function createStackWorkspaces(settings: StackWorkspaceSettings): StackWorkspaces {
  let command: Promise<PulumiCommand> | undefined;
  // One `pulumi version` per process rather than per stack.
  const pulumiCommand = () =>
    (command ??= PulumiCommand.get({ root: settings.engineRoot }).catch((err: unknown) => {
      command = undefined;
      throw err;
    }));

  const workDir = (tenantId: string) => path.join(settings.stateDir, 'workspaces', tenantStackName(tenantId));

  const envVars: Record<string, string> = {
    ...settings.env,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_HOME: path.join(settings.stateDir, 'pulumi-home'),
    // The engine finds `pulumi-resource-pulumi-nodejs` on PATH; it runs on this Node.
    PATH: [engineLauncherDir.replace(/\/$/, ''), settings.nodeDir, settings.searchPath].filter(Boolean).join(path.delimiter),
  };

  return {
    workDir,
    async open(tenantId, options) {
      const stackName = tenantStackName(tenantId);
      const dir = workDir(tenantId);
      // LocalWorkspace checks that its work directory exists.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await mkdir(envVars.PULUMI_HOME as string, { recursive: true, mode: 0o700 });
      // The file backend does not create its own folder.
      if (settings.backendUrl.startsWith('file://')) await mkdir(fileURLToPath(settings.backendUrl), { recursive: true, mode: 0o700 });
      const workspace = await LocalWorkspace.create({
        workDir: dir,
        pulumiCommand: await pulumiCommand(),
        program: options.program,
        projectSettings: { name: tenantProjectName, runtime: 'nodejs', backend: { url: settings.backendUrl } },
        secretsProvider: settings.secretsProvider,
        envVars,
      });

      let stack: Stack;
      if (options.mode === 'create') {
        try {
          stack = await Stack.create(stackName, workspace);
        } catch (err) {
          // Created by an attempt whose registry write was lost: adopt it.
          if (!(err instanceof StackAlreadyExistsError)) throw err;
          stack = await Stack.select(stackName, workspace);
        }
      } else {
        try {
          stack = await Stack.select(stackName, workspace);
        } catch (err) {
          if (err instanceof StackNotFoundError) {
            throw new StackMissingError(`stack ${stackName} is registered but missing from ${settings.backendUrl}`, { cause: err });
          }
          throw err;
        }
      }

      // Read-modify-write: `stack init` wrote the encryption salt into the same file.
      let current: Awaited<ReturnType<LocalWorkspace['stackSettings']>> = {};
      try {
        current = await workspace.stackSettings(stackName);
      } catch {
        // No settings file yet (a selected stack in a fresh work directory).
      }
      const config = { ...current.config };
      for (const [key, value] of Object.entries(options.config)) config[`zekt:${key}`] = value;
      await workspace.saveStackSettings(stackName, { ...current, secretsProvider: settings.secretsProvider, config });
      return stack;
    },
  };
}
