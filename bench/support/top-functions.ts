/**
 * `npx tsx bench/support/top-functions.ts <file.cpuprofile> [count]`: where a CPU profile's time
 * went, by self time per function and per file (a quick look without DevTools).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const [file, count = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: top-functions.ts <file.cpuprofile> [count]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const fns = new Map<string, number>();
const files = new Map<string, number>();
let total = 0;
for (const id of profile.samples) {
  const frame = byId.get(id)?.callFrame;
  if (!frame || frame.functionName === '(idle)') continue;
  total++;
  const where = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(runtime|local|bench)\//, '$1/');
  const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + 1);
  const pkg = where.startsWith('@') ? where.split('/').slice(0, 2).join('/') : where.split('/').slice(0, where.startsWith('runtime') || where.startsWith('local') ? 3 : 1).join('/');
  files.set(pkg || '(native)', (files.get(pkg || '(native)') ?? 0) + 1);
}
const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(count));
console.log(`${total} busy samples`);
for (const [k, n] of top(files)) console.log(`${((100 * n) / total).toFixed(1).padStart(5)} %  ${k}`);
console.log('');
for (const [k, n] of top(fns)) console.log(`${((100 * n) / total).toFixed(1).padStart(5)} %  ${k}`);
