/**
 * What `npm start` + `zekt tenants create acme` + `zekt tenants destroy acme` do, end to end: the
 * local platform with its control plane, the CLI's tenants command enqueueing through the same
 * API as signup, the provisioning queue function on the local host taking the job, and a stop
 * that leaves no process behind.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { SecretClient } from '@azure/keyvault-secrets';
import { tenantsCommand, exitCodes } from '../../automation/cli/tenants-command.ts';
import { startLocalPlatform, type LocalPlatform } from '../../local/start-local-platform.ts';
import { localVaultClientOptions } from '../../local/start-local-control-plane.ts';
import { createLocalIdentityCredential } from '../../runtime/core/local-identity.ts';
import { tenantResourceNames } from '../../tenant-stack/resource-names.ts';
import { tenantSecretNames } from '../../tenant-stack/tenant-secrets.ts';
import type { TenantRecord } from '../../automation/tenant-registry.ts';
import { descendants, waitGone } from './support/processes.ts';

describe('local platform: zekt tenants create|destroy through the provisioning queue (real engine)', function () {
  this.timeout(120_000);
  let platform: LocalPlatform;
  let stopped = false;
  /** Processes this test process already had (the suite's shared Azurite, tsx's esbuild service). */
  let preexisting: Set<number>;
  let out: string[];
  let exitCode: number;
  const progress: string[] = [];

  const zekt = async (...args: string[]) => {
    out = [];
    exitCode = exitCodes.ok;
    const cp = platform.controlPlane;
    if (!cp) throw new Error('the platform runs no control plane');
    const program = new Command('zekt').exitOverride();
    program.addCommand(
      tenantsCommand({
        controlPlane: async () => cp,
        out: (line) => out.push(line),
        setExitCode: (code) => (exitCode = code),
        progress: { isTTY: false, write: (text: string) => progress.push(text) > 0 },
        pollMs: 100,
      }),
    );
    await program.parseAsync(['tenants', ...args], { from: 'user' });
    return out;
  };

  before(async () => {
    preexisting = new Set((await descendants(process.pid)).map((p) => p.pid));
    platform = await startLocalPlatform({ env: { ZEKT_PORT: '0', ZEKT_LOG_LEVEL: 'silent' }, inMemory: true });
  });
  after(async () => {
    if (!stopped) await platform?.stop();
  });

  it('creates a tenant whose storage, vault and runtime answer, then destroys it', async () => {
    await zekt('create', 'acme');
    expect(exitCode).to.equal(exitCodes.ok);
    expect(out[0]).to.equal('acme: ready');
    expect(progress.some((line) => /^acme: provisioning \d+\/\d+/.test(line)), 'plain progress lines off a terminal').to.equal(true);
    await zekt('show', 'acme', '--json');
    const record = JSON.parse(out[0] as string) as TenantRecord & { oidcAudience?: string };
    expect(record.status).to.equal('ready');
    expect(record.oidcAudience).to.equal('zekt:acme');
    const outputs = record.outputs as NonNullable<TenantRecord['outputs']>;
    expect((await fetch(`${outputs.baseUrl}/api/health`)).status).to.equal(200);

    const manager = platform.controlPlane?.manager;
    const identity = manager?.resources.getIdentity(tenantResourceNames('acme', record.creationId).identity);
    const vault = new SecretClient(
      outputs.vaultUri,
      createLocalIdentityCredential({ clientId: identity?.clientId as string, secret: identity?.clientSecret as string }),
      localVaultClientOptions(manager?.caCert as string),
    );
    expect((await vault.getSecret(tenantSecretNames.forwardSigningSecret)).value).to.match(/^whsec_/);

    await zekt('list');
    expect(out.join('\n')).to.match(/^acme\s+ready\s+\d+\/\d+/m);
    await zekt('show', 'nobody');
    expect(exitCode).to.equal(exitCodes.notFound);
    await zekt('create', 'Not_Valid');
    expect(exitCode).to.equal(exitCodes.invalid);

    const running = await descendants(process.pid);
    await zekt('destroy', 'acme');
    expect(exitCode).to.equal(exitCodes.ok);
    expect(out[0]).to.equal('acme: deleted');
    expect(await fetch(`${outputs.baseUrl}/api/health`).then(() => 'answered', () => 'refused')).to.equal('refused');
    const tenantProcesses = running.filter((p) => p.command.includes('start-tenant-runtime') || p.command.includes(record.outputs?.storageAccountName ?? '-'));
    await waitGone(tenantProcesses.map((p) => p.pid));
  });

  it('stops without leaving a process behind', async () => {
    const before = (await descendants(process.pid)).filter((p) => !preexisting.has(p.pid));
    expect(before.map((p) => p.command).join('\n')).to.match(/azurite/);
    stopped = true;
    await platform.stop();
    await waitGone(before.map((p) => p.pid), 10_000);
  });
});
