/**
 * The deployable packages as Azure gets them: `buildPackages` writes each into an empty folder,
 * `npm ci --omit=dev` installs its production dependencies from its own lockfile, and each is
 * started the way it is started on Azure — the two Functions apps by loading their `main` as the
 * Functions Node.js worker does (with `@azure/functions-core` answered, so the library's own
 * registrations are seen), the worker's entry with plain Node — with the app settings the Pulumi
 * programs write. A missing file, import or dependency fails here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { buildPackages } from '../../scripts/build/build-packages.ts';
import { loadEngineConfig } from '../../runtime/config.ts';
import { sharedAzurite } from '../support/azurite.ts';
import { programSettings, type ProgramSettings } from './support/program-settings.ts';

const functionsHost = fileURLToPath(new URL('./support/start-as-functions-host.mjs', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What one registration says, in the terms of the function table. */
interface Registered {
  readonly name: string;
  readonly trigger: string;
  readonly route?: string;
  readonly methods?: readonly string[];
  readonly authLevel?: string;
  readonly returns?: string;
  readonly queueName?: string;
  readonly connection?: string;
  readonly schedule?: string;
}

interface Binding {
  readonly type: string;
  readonly direction: string;
  readonly [key: string]: unknown;
}

function describeRegistration(fn: { name: string; bindings: Record<string, Binding> }): Registered {
  const bindings = Object.entries(fn.bindings);
  const [, trigger] = bindings.find(([, b]) => b.direction === 'in' && /Trigger$/.test(b.type)) ?? [];
  if (!trigger) throw new Error(`function ${fn.name} has no trigger binding`);
  const returns = fn.bindings.$return?.type;
  const pick = (key: string) => (trigger[key] === undefined ? {} : { [key]: trigger[key] });
  return { name: fn.name, trigger: trigger.type, ...pick('route'), ...pick('methods'), ...pick('authLevel'), ...(returns ? { returns } : {}), ...pick('queueName'), ...pick('connection'), ...pick('schedule') };
}

// host.json's route prefix is empty (the console's pages sit at the root): API routes carry `api/` themselves.
const http = (name: string, method: string, route: string): Registered => ({ name, trigger: 'httpTrigger', route: `api/${route}`, methods: [method], authLevel: 'anonymous', returns: 'http' });

/** Literal expectations (what GitHub, browsers and tenants call; what the host schedules). */
const expected: Record<'platform-app' | 'tenant-app', readonly Registered[]> = {
  'platform-app': [
    http('health', 'GET', 'health'),
    http('githubWebhooks', 'POST', 'github/webhooks'),
    { name: 'routeDeliveries', trigger: 'queueTrigger', queueName: 'ingress-deliveries', connection: 'AzureWebJobsStorage' },
    { name: 'sweepDeliveries', trigger: 'timerTrigger', schedule: '0 * * * * *' },
    { name: 'redeliverFailedDeliveries', trigger: 'timerTrigger', schedule: '30 */5 * * * *' },
    http('authLogin', 'GET', 'auth/login'),
    http('authCallback', 'GET', 'auth/callback'),
    http('authLogout', 'POST', 'auth/logout'),
    http('authSession', 'GET', 'auth/session'),
    http('signup', 'POST', 'signup'),
    http('tenantMe', 'GET', 'tenants/me'),
    http('githubSetup', 'GET', 'github/setup'),
    http('installations', 'GET', 'installations'),
    http('tokens', 'POST', 'tokens'),
  ],
  'tenant-app': [http('tenantHealth', 'GET', 'health'), http('webhooks', 'POST', 'webhooks'), http('webhookBatches', 'POST', 'webhooks/batch'), http('postMessage', 'POST', 'messages')],
};

describe('deployable packages, built into an empty folder and started as on Azure', function () {
  this.timeout(60_000);
  let root: string;
  let built: Record<string, string>;
  let written: ProgramSettings;
  /** A child's environment: the app settings alone, as the host gives them, plus PATH. */
  const envOf = (settings: Readonly<Record<string, string>>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: root, ...settings });

  before(async function () {
    // One build for the file; the three installs run at once while the programs run under mocks.
    this.timeout(300_000);
    root = await mkdtemp(path.join(os.tmpdir(), 'zekt-packages-'));
    built = await buildPackages({ outRoot: root });
    const installs = Object.entries(built).map(async ([name, dir]) => {
      const result = await run('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: process.env, timeoutMs: 240_000 });
      if (result.code !== 0) throw new Error(`npm ci --omit=dev in ${name} failed:\n${result.stderr}`);
    });
    [written] = await Promise.all([programSettings(), ...installs]);
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const startFunctionsApp = async (name: string, settings: Readonly<Record<string, string>>) => {
    const report = path.join(root, `${name}-registrations.json`);
    const result = await run(process.execPath, [functionsHost, report], { cwd: built[name] as string, env: envOf(settings), timeoutMs: 30_000 });
    return { result, report };
  };

  for (const [name, settingsOf] of [
    ['platform-app', (w: ProgramSettings) => w.platformApp],
    ['tenant-app', (w: ProgramSettings) => w.tenantAppAzure],
  ] as const) {
    it(`${name}: its entry starts with the app settings its program writes and registers every function through @azure/functions`, async () => {
      const { result, report } = await startFunctionsApp(name, settingsOf(written));
      expect(result.code, `${name} did not start:\n${result.stderr}`).to.equal(0);
      const { programmingModel, functions } = JSON.parse(await readFile(report, 'utf8')) as {
        programmingModel?: { name: string; version: string };
        functions: { name: string; bindings: Record<string, Binding> }[];
      };
      expect(programmingModel?.name, 'programming model set by @azure/functions').to.equal('@azure/functions');
      expect(programmingModel?.version).to.match(/^4\./);
      const registered = functions.map(describeRegistration);
      expect(registered.map((f) => f.name), 'a function registered twice').to.have.lengthOf(new Set(registered.map((f) => f.name)).size);
      for (const fn of expected[name]) expect(registered, `${fn.name} as registered`).to.deep.include(fn);
    });
  }

  it('tenant-app: refuses to start without its tenant, naming the setting', async () => {
    const { ZEKT_TENANT_ID: _dropped, ...settings } = written.tenantAppAzure;
    const { result } = await startFunctionsApp('tenant-app', settings);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.include('ZEKT_TENANT_ID is required');
  });

  describe('provisioning-worker', () => {
    const worker = (args: readonly string[], settings: Readonly<Record<string, string>>) =>
      run(process.execPath, ['automation/worker-main.js', ...args], { cwd: built['provisioning-worker'] as string, env: envOf(settings), timeoutMs: 45_000 });

    /** The job's environment, with storage pointed at Azurite and the engine and tenant package of this machine. */
    const workerSettings = async (): Promise<Record<string, string>> => {
      const { ZEKT_STORAGE_ACCOUNT_NAME: _identityStorage, ...settings } = written.worker;
      return {
        ...settings,
        ZEKT_STORAGE_CONNECTION_STRING: (await sharedAzurite()).connectionString(),
        ZEKT_CACHE_DIR: loadEngineConfig(process.env).cacheDir,
        ZEKT_STATE_DIR: path.join(root, 'worker-state'),
        ZEKT_TENANT_PACKAGE_DIR: built['tenant-app'] as string,
      };
    };

    it('--help prints its usage and exits 0', async () => {
      const result = await worker(['--help'], {});
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('Usage: zekt-provisioner');
      expect(result.stdout).to.include('--drain').and.include('--dry-run');
    });

    it('--dry-run wires the control plane for the azure target, checks the tenant package and the queue, and takes no job', async () => {
      const result = await worker(['--dry-run'], await workerSettings());
      expect(result.code, result.stderr).to.equal(0);
      const lines = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      const ready = lines.find((l) => l.msg === 'provisioning worker dry run: ready, no job taken');
      expect(ready, result.stdout).to.exist;
      expect(ready).to.include({ target: 'azure', queuedJobs: ready?.queuedJobs });
      expect(ready?.queuedJobs).to.be.a('number');
      expect(ready?.tenantPackage).to.deep.equal({ dir: built['tenant-app'], main: 'runtime/azure/tenant-app.js' });
    });

    it('--dry-run fails, naming the setting, when the tenant package is not given', async () => {
      const { ZEKT_TENANT_PACKAGE_DIR: _dropped, ...settings } = await workerSettings();
      const result = await worker(['--dry-run'], settings);
      expect(result.code).to.not.equal(0);
      expect(result.stderr + result.stdout).to.include('ZEKT_TENANT_PACKAGE_DIR');
    });
  });
});
