/**
 * Builds `@azure/functions`' own `InvocationContext` for the local host, sending `context.log`
 * and friends to the structured logger with the function name and invocation id.
 */
import { randomUUID } from 'node:crypto';
import azureFunctions from '@azure/functions';
import type { InvocationContext, LogLevel } from '@azure/functions';
import type { Logger } from '../core/logger.ts';

const { InvocationContext: Context } = azureFunctions;

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  trace: 'trace',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  none: 'trace',
};

export function createInvocationContext(
  functionName: string,
  log: Logger,
  triggerMetadata: Record<string, unknown> = {},
): InvocationContext {
  const invocationId = randomUUID();
  // Made on the first log call: most invocations on the hot path never log through the context.
  let childLogger: Logger | undefined;
  const child = () => (childLogger ??= log.child({ functionName, invocationId }));
  return new Context({
    invocationId,
    functionName,
    triggerMetadata,
    logHandler: (level, ...args) => {
      const [first, ...rest] = args;
      const method = levels[level];
      const target = child();
      if (first instanceof Error) target[method]({ err: first }, rest.map(String).join(' ') || first.message);
      else if (first && typeof first === 'object') target[method](first as object, rest.map(String).join(' '));
      else if (rest.some((r) => r instanceof Error)) target[method]({ err: rest.find((r) => r instanceof Error) }, String(first));
      else target[method](args.map(String).join(' '));
    },
  });
}
