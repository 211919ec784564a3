/**
 * Process checks for tests that must leave nothing running: the descendants of a process (from
 * /proc, Linux) and a wait for a set of pids to be gone.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
}

export async function listProcesses(): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces; fields after it are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      out.push({ pid: Number(entry), ppid, command });
    } catch {
      // Gone while we looked.
    }
  }
  return out;
}

export async function descendants(pid: number): Promise<ProcessInfo[]> {
  const all = await listProcesses();
  const found: ProcessInfo[] = [];
  let frontier = [pid];
  while (frontier.length) {
    const children = all.filter((p) => frontier.includes(p.ppid));
    found.push(...children);
    frontier = children.map((c) => c.pid);
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` is alive; rejects after `timeoutMs` naming the survivors. */
export async function waitGone(pids: readonly number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pids.some(isAlive)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`still running after ${timeoutMs} ms: ${pids.filter(isAlive).join(', ')}`);
}

/** Engine and plugin processes (the Pulumi CLI, the dynamic-provider host) among `processes`. */
export function engineProcesses(processes: readonly ProcessInfo[]): ProcessInfo[] {
  return processes.filter((p) => /bin\/pulumi |dynamic-provider-host|dynamic-provider\/index/.test(`${p.command} `));
}
