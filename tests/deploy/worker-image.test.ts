/**
 * The worker image's file set (no Docker here): what `automation/Dockerfile` copies into its build
 * stage covers every source the worker and tenant packages are built from, the image runs the
 * compiled worker entry with plain Node (no tsx, no local/), and it ships the tenant package the
 * worker deploys, where ZEKT_TENANT_PACKAGE_DIR says.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { deployablePackages } from '../../scripts/build/deployable-packages.ts';
import { moduleClosure } from '../../scripts/build/module-closure.ts';

describe('provisioning worker image (automation/Dockerfile)', () => {
  let dockerfile: string;
  before(async () => {
    dockerfile = await readFile('automation/Dockerfile', 'utf8');
  });
  const copied = () => [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/)).map((p) => p.replace(/\/$/, ''));

  for (const name of ['provisioning-worker', 'tenant-app']) {
    it(`copies every source the ${name} package is built from`, () => {
      const spec = deployablePackages.find((p) => p.name === name);
      if (!spec) throw new Error(`no package ${name}`);
      const sources = [...moduleClosure(spec.entry).files.keys()].map((f) => f.replace(/\.js$/, '.ts'));
      const uncovered = [...sources, ...spec.assets].filter((file) => !copied().some((c) => file === c || file.startsWith(`${c}/`)));
      expect(uncovered, 'not copied into the build stage').to.deep.equal([]);
      expect(sources.filter((f) => f.startsWith('local/')), `${name} reaches local/`).to.deep.equal([]);
    });
  }

  it('runs the compiled worker entry with plain Node, without tsx', () => {
    const worker = deployablePackages.find((p) => p.name === 'provisioning-worker');
    expect(dockerfile).to.include(`ENTRYPOINT ["node", "${worker?.entry.replace(/\.ts$/, '.js')}"]`);
    expect(dockerfile.split('# 3.')[1], 'final stage').not.to.include('tsx');
  });

  it('installs production dependencies only in each package and ships the tenant package where the worker looks', () => {
    expect(dockerfile).to.include('(cd dist/packages/provisioning-worker && npm ci --omit=dev)');
    expect(dockerfile).to.include('(cd dist/packages/tenant-app && npm ci --omit=dev)');
    expect(dockerfile).to.include('COPY --from=build /src/dist/packages/tenant-app ./tenant-app');
    expect(dockerfile).to.match(/ZEKT_TENANT_PACKAGE_DIR=\/app\/tenant-app/);
  });
});
