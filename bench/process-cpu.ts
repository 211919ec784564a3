/**
 * CPU time of the processes a benchmark runs, from /proc (Linux): this process and every process
 * below it, each named by its role (Azurite, tenant runtime, the bench's GitHub side) from its command line.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** User + system CPU seconds a process has used so far (NaN where there is none). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

export interface BenchProcess {
  readonly pid: number;
  readonly role: string;
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Every process below `root` (children, grandchildren), Azurite and tenant runtimes by name. */
export function processesBelow(root: number): BenchProcess[] {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const below = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const pid of all) {
      const parent = parentOf(pid);
      if (!below.has(pid) && parent !== undefined && below.has(parent)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  below.delete(root);
  return [...below].map((pid) => {
    const command = commandOf(pid);
    const role = /azurite/.test(command) ? (/\/tenants\/([^/]+)\//.test(command) ? `Azurite of tenant ${/\/tenants\/([^/]+)\//.exec(command)?.[1]}` : 'Azurite of the platform') : /start-tenant-runtime/.test(command) ? 'tenant runtime' : /github-side/.test(command) ? 'GitHub double and run sender (not Zekt)' : /pulumi|dynamic-provider/.test(command) ? 'engine' : 'other';
    return { pid, role };
  });
}

/** CPU seconds per process, read now. */
export function cpuOf(processes: readonly BenchProcess[]): Map<number, number> {
  return new Map(processes.map((p) => [p.pid, cpuSeconds(p.pid)]));
}
