/**
 * Turns engine events into progress: resources done / total. The total is what the engine has
 * announced so far, or what the previous run of the same stack had, whichever is larger (the
 * engine announces a resource only when its step starts). Reports are throttled, because each
 * one is a registry write.
 */
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import type { TenantProgress } from './tenant-registry.ts';

export interface ProgressTracker {
  onEvent(event: EngineEvent): void;
  /** The latest figures (for the final write). */
  current(): TenantProgress;
  /** Stops pending throttled reports and returns the final figures. */
  finish(): TenantProgress;
  /** Time the engine reported its summary (ms since epoch), when it has. */
  summaryAt(): number | undefined;
}

export function trackProgress(options: {
  readonly previousTotal?: number;
  readonly report: (progress: TenantProgress) => void;
  readonly intervalMs?: number;
  readonly now?: () => number;
}): ProgressTracker {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 500;
  const seen = new Set<string>();
  const done = new Set<string>();
  let currentUrn: string | undefined;
  let lastReport = 0;
  let timer: NodeJS.Timeout | undefined;
  let summary: number | undefined;

  const figures = (): TenantProgress => ({
    done: done.size,
    total: Math.max(options.previousTotal ?? 0, seen.size, done.size),
    ...(currentUrn ? { current: currentUrn.split('::').at(-1) as string } : {}),
  });

  const flush = () => {
    timer = undefined;
    lastReport = now();
    options.report(figures());
  };

  const schedule = () => {
    if (timer) return;
    const wait = Math.max(0, lastReport + interval - now());
    timer = setTimeout(flush, wait);
    timer.unref();
  };

  return {
    onEvent(event) {
      const pre = event.resourcePreEvent?.metadata;
      const outputs = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
      if (pre) {
        seen.add(pre.urn);
        currentUrn = pre.urn;
        schedule();
      }
      if (outputs) {
        seen.add(outputs.urn);
        done.add(outputs.urn);
        schedule();
      }
      if (event.summaryEvent) summary = now();
    },
    current: figures,
    finish() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      return figures();
    },
    summaryAt: () => summary,
  };
}
