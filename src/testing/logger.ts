// Test support: a logger that keeps its records for assertions.
import { createLogger, type LogFields, type Logger, type LogLevel } from '../kube/logger.ts';

export interface MemoryLogger extends Logger {
  /** Every record written by this logger and its children, parsed. */
  readonly records: LogFields[];
}

/** Keeps records in memory, for tests that assert on what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): MemoryLogger {
  const records: LogFields[] = [];
  const base = createLogger({
    level,
    write: (line) => records.push(JSON.parse(line) as LogFields),
    now: () => new Date(0),
  });
  const wrap = (l: Logger): MemoryLogger => ({
    records,
    level: l.level,
    debug: (msg, fields) => l.debug(msg, fields),
    info: (msg, fields) => l.info(msg, fields),
    warn: (msg, fields) => l.warn(msg, fields),
    error: (msg, fields) => l.error(msg, fields),
    enabled: (lvl) => l.enabled(lvl),
    with: (fields) => wrap(l.with(fields)),
  });
  return wrap(base);
}
