import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { platformNodeArguments } from '../../runtime/platform/node-arguments.ts';

describe('the platform process\'s Node arguments', () => {
  it('are what `npm start` runs the local platform with', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const start = pkg.scripts.start ?? '';
    expect(start.split(' ')).to.include.members([...platformNodeArguments]);
    expect(start).to.match(/^node .*scripts\/start\.ts$/);
  });

  it('are options Node accepts', async () => {
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...platformNodeArguments, '-e', 'process.stdout.write("ok")'], (err, stdout, stderr) => (err ? reject(new Error(stderr, { cause: err })) : resolve(stdout)));
    });
    expect(out).to.equal('ok');
  });
});
