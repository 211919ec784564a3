/**
 * Which share of this process's CPU went to the GitHub double: under `npm start` the double runs
 * in the platform's process, so its cost (building, signing and schema-checking webhooks,
 * answering dispatches) is taken out of the platform's figure. A sampling profile (node:inspector)
 * over the measured stretch; a sample counts for the double when any frame of its stack is the
 * double's code (local/github-double, and what it calls), for the benchmark's own driver when a
 * frame is under bench/, otherwise for the platform — split into what runs under a frame of Zekt's
 * own code and what has none (`unowned`). Idle samples count for nobody.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

export interface ProfileShare {
  readonly double: number;
  readonly driver: number;
  readonly platform: number;
  /**
   * The part of `platform` whose stack has no frame of Zekt's code either (nor the double's, nor
   * the driver's): Node's HTTP and stream internals called back from a socket, the garbage
   * collector, the event loop. They serve the platform and the double alike, and are counted for
   * the platform (so its figure is an upper bound, and the part in Zekt's frames a lower one).
   */
  readonly unowned: number;
}

/** Zekt's own code: a frame of one of these folders makes a sample the platform's for sure. */
const zektCode = /\/(runtime|automation|platform|tenant-stack|scripts)\/|\/local\/(?!github-double\/)/;

export async function startProfile(): Promise<() => Promise<ProfileShare>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    session.disconnect();
    // BENCH_PROFILE_DIR: the profile itself too, for Chrome DevTools or `npx tsx bench/support/top-functions.ts`.
    if (process.env.BENCH_PROFILE_DIR) await writeFile(path.join(process.env.BENCH_PROFILE_DIR, `platform-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    return share(profile);
  };
}

function share(profile: Profile): ProfileShare {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  type Owner = 'double' | 'driver' | 'zekt' | 'unowned' | 'idle';
  const owner = new Map<number, Owner>();
  // The double's or the driver's frame anywhere in the stack decides (the double calls some of
  // Zekt's helpers, runtime/core/http-post.ts among them); else a frame of Zekt's code; else none.
  const ownerOf = (id: number): Owner => {
    const known = owner.get(id);
    if (known) return known;
    const node = byId.get(id) as ProfileNode;
    let found: Owner | undefined;
    if (node.callFrame.functionName === '(idle)') found = 'idle';
    else if (node.callFrame.url.includes('/local/github-double/')) found = 'double';
    else if (node.callFrame.url.includes('/bench/')) found = 'driver';
    const up = parent.get(id);
    let result = found ?? (up === undefined ? 'unowned' : ownerOf(up));
    if (result === 'unowned' && zektCode.test(node.callFrame.url)) result = 'zekt';
    owner.set(id, result);
    return result;
  };
  const counts = { double: 0, driver: 0, zekt: 0, unowned: 0 };
  for (const sample of profile.samples) {
    const who = ownerOf(sample);
    if (who !== 'idle') counts[who] += 1;
  }
  const total = counts.double + counts.driver + counts.zekt + counts.unowned || 1;
  return { double: counts.double / total, driver: counts.driver / total, platform: (counts.zekt + counts.unowned) / total, unowned: counts.unowned / total };
}
