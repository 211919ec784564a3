import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { build } from 'esbuild';
import { actionBuildOptions, actionBundle } from '../../action/build-action.ts';

describe('the Zekt Action: committed bundle', () => {
  it('is what action/src builds today (run `npm run build:action` when this fails)', async function () {
    this.timeout(60_000);
    const result = await build({ ...actionBuildOptions, write: false, outfile: actionBundle });
    const fresh = result.outputFiles?.[0]?.text;
    const committed = await readFile(actionBundle, 'utf8');
    expect(fresh, 'esbuild produced the bundle').to.be.a('string');
    // Compared by equality, not printed: a diff of 800 KB helps nobody.
    expect(fresh === committed, 'action/dist/index.js is stale: run `npm run build:action` and commit it').to.equal(true);
  });

  it('declares a node24 JavaScript action whose main is the bundle', async () => {
    const yml = await readFile(new URL('../../action/action.yml', import.meta.url), 'utf8');
    expect(yml).to.match(/^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
  });
});
