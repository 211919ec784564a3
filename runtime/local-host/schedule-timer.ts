/**
 * The timer half of the local host: NCRONTAB schedules with a seconds field, as Azure Functions
 * reads them (https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions),
 * parsed by `cron-parser`. A run never overlaps the previous run of the same function.
 */
import { CronExpressionParser } from 'cron-parser';
import type { TimerFunction } from '../functions/function-table.ts';
import type { Logger } from '../core/logger.ts';
import { createInvocationContext } from './invocation-context.ts';

export interface TimerHandle {
  stop(): Promise<void>;
}

/** Validates a schedule at start-up; throws naming the function when it does not parse. */
export function nextRun(schedule: string, from: Date = new Date()): Date {
  if (schedule.trim().split(/\s+/).length !== 6) throw new Error(`schedule "${schedule}" must have 6 fields (with seconds)`);
  return CronExpressionParser.parse(schedule, { currentDate: from, tz: 'UTC' }).next().toDate();
}

export function scheduleTimer(fn: TimerFunction, log: Logger, now: () => Date = () => new Date()): TimerHandle {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  nextRun(fn.schedule);

  const arm = () => {
    if (stopped) return;
    const due = nextRun(fn.schedule, now());
    timer = setTimeout(() => {
      running = (async () => {
        const context = createInvocationContext(fn.name, log, { trigger: 'timer', scheduledTime: due.toISOString() });
        try {
          await fn.handler({ isPastDue: now().getTime() - due.getTime() > 60_000 }, context);
        } catch (err) {
          log.error({ err, functionName: fn.name }, 'timer function failed');
        }
      })().finally(arm);
    }, Math.max(0, due.getTime() - now().getTime()));
  };
  arm();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
