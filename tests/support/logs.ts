/** A logger whose lines are kept in memory, so tests assert on them (and scan them for tokens). */
import { createLogger, createMemoryDestination } from '../../runtime/core/logger.ts';

export function memoryLogger(level = 'debug') {
  const destination = createMemoryDestination();
  return { log: createLogger({ level, destination }), lines: destination.lines, raw: destination.raw };
}
