/** A logger whose lines are kept in memory, so tests assert on them (and scan them for tokens). */
import { createLogger, createMemoryDestination } from '../../runtime/core/logger.ts';
import { recordLogLine } from './token-scan.ts';

export function memoryLogger(level = 'debug') {
  const destination = createMemoryDestination();
  const write = destination.write.bind(destination);
  destination.write = (chunk: string) => {
    recordLogLine(chunk);
    write(chunk);
  };
  return { log: createLogger({ level, destination }), lines: destination.lines, raw: destination.raw };
}
