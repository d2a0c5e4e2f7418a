// Structured logs on stderr. The controller writes JSON lines ({ts, level, msg, ...fields}) that log
// shippers parse; the CLI, or anyone who sets FEDCTL_LOG=text, gets one readable line per record.
// stdout stays free for command output.
import { errorMessage } from './errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (e.g. `log.with({ cluster })`). */
  with(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** Lowest level written; default info. */
  level?: LogLevel;
  /** Default json. */
  format?: LogFormat;
  /** Where finished lines go (without trailing newline); default stderr. */
  write?: (line: string) => void;
  /** Bound fields of the root logger. */
  fields?: LogFields;
  now?: () => Date;
}

const RESERVED = new Set(['ts', 'level', 'msg']);

/**
 * Makes field values JSON-friendly: errors become their one-line message (API errors included),
 * dates ISO strings, bigints strings. Everything else is passed through as is.
 */
function fieldValue(v: unknown): unknown {
  if (v instanceof Error) return errorMessage(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'code' in v && 'body' in v) {
    // An ApiException-like object that is not an Error instance.
    return errorMessage(v);
  }
  return v;
}

function record(level: LogLevel, msg: string, bound: LogFields, fields: LogFields | undefined, now: Date) {
  const rec: LogFields = { ts: now.toISOString(), level, msg };
  for (const src of [bound, fields ?? {}]) {
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined) continue;
      // A field must not overwrite the envelope; keep it under another name instead.
      rec[RESERVED.has(k) ? `field_${k}` : k] = fieldValue(v);
    }
  }
  return rec;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    // Cycles and the like: a log call must never throw.
    return JSON.stringify(String(value));
  }
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return safeJson(v);
}

/** `12:00:01.123 INFO  message key=value other="with space"` */
export function formatText(rec: LogFields): string {
  const { ts, level, msg, ...rest } = rec;
  const time = typeof ts === 'string' ? ts.slice(11, 23) : '';
  const head = `${time} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}`;
  const tail = Object.entries(rest).map(([k, v]) => `${k}=${textValue(v)}`);
  return tail.length > 0 ? `${head} ${tail.join(' ')}` : head;
}

export function formatJson(rec: LogFields): string {
  return safeJson(rec);
}

class StructuredLogger implements Logger {
  readonly level: LogLevel;
  readonly #format: LogFormat;
  readonly #write: (line: string) => void;
  readonly #fields: LogFields;
  readonly #now: () => Date;

  constructor(opts: Required<LoggerOptions>) {
    this.level = opts.level;
    this.#format = opts.format;
    this.#write = opts.write;
    this.#fields = opts.fields;
    this.#now = opts.now;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  #log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const rec = record(level, msg, this.#fields, fields, this.#now());
    try {
      this.#write(this.#format === 'text' ? formatText(rec) : formatJson(rec));
    } catch {
      // A closed stderr (EPIPE) must not take the controller down.
    }
  }

  debug(msg: string, fields?: LogFields): void {
    this.#log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#log('error', msg, fields);
  }

  with(fields: LogFields): Logger {
    return new StructuredLogger({
      level: this.level,
      format: this.#format,
      write: this.#write,
      fields: { ...this.#fields, ...fields },
      now: this.#now,
    });
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new StructuredLogger({
    level: opts.level ?? 'info',
    format: opts.format ?? 'json',
    write: opts.write ?? ((line) => process.stderr.write(`${line}\n`)),
    fields: opts.fields ?? {},
    now: opts.now ?? (() => new Date()),
  });
}

/**
 * Reads the logging settings from the environment:
 * `FEDCTL_LOG` is a comma-separated list of a format (`json`, `text`) and/or a level
 * (`debug`, `info`, `warn`, `error`), e.g. `FEDCTL_LOG=text,debug`; `FEDCTL_LOG_LEVEL` sets the level
 * too. Both override `defaults` (e.g. the CLI's --verbose). Unknown words are reported on the logger
 * itself instead of being silently ignored.
 */
export function loggerFromEnv(
  defaults: LoggerOptions = {},
  env: Record<string, string | undefined> = process.env,
): Logger {
  let format = defaults.format;
  let level = defaults.level;
  const unknown: string[] = [];
  const words = [...(env.FEDCTL_LOG ?? '').split(','), env.FEDCTL_LOG_LEVEL ?? '']
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '');
  for (const w of words) {
    if (w === 'json' || w === 'text') format = w;
    else if ((LOG_LEVELS as readonly string[]).includes(w)) level = w as LogLevel;
    else unknown.push(w);
  }
  const logger = createLogger({ ...defaults, format, level });
  if (unknown.length > 0) {
    logger.warn('ignoring unknown FEDCTL_LOG words', {
      words: unknown,
      known: ['json', 'text', ...LOG_LEVELS],
    });
  }
  return logger;
}

/** Discards everything. */
export const nopLogger: Logger = createLogger({ level: 'error', write: () => {} }).with({});
