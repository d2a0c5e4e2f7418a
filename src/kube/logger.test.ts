import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../testing/logger.ts';
import { createLogger, formatText, type LogFields, loggerFromEnv, nopLogger } from './logger.ts';

const capture = (opts: Parameters<typeof createLogger>[0] = {}) => {
  const lines: string[] = [];
  const log = createLogger({
    now: () => new Date('2025-01-02T03:04:05.678Z'),
    write: (l) => lines.push(l),
    ...opts,
  });
  return { log, lines };
};

describe('createLogger', () => {
  it('writes one JSON object per record with ts, level, msg first and the fields after', () => {
    const { log, lines } = capture();
    log.info('cluster joined', { cluster: 'c1', members: 3 });
    expect(lines).toEqual([
      '{"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"cluster joined","cluster":"c1","members":3}',
    ]);
  });

  it('drops records below its level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);
  });

  it('binds fields in child loggers without changing the parent', () => {
    const { log, lines } = capture();
    const child = log.with({ cluster: 'c1' }).with({ type: 'FederatedDeployment' });
    child.info('synced', { key: 'ns/web' });
    log.info('root');
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      cluster: 'c1',
      type: 'FederatedDeployment',
      key: 'ns/web',
    });
    expect(JSON.parse(lines[1] as string)).not.toHaveProperty('cluster');
  });

  it('lets call fields override bound ones and never the envelope', () => {
    const { log, lines } = capture();
    log.with({ cluster: 'a' }).info('m', { cluster: 'b', msg: 'sneaky', level: 'x' });
    expect(JSON.parse(lines[0] as string)).toEqual({
      ts: '2025-01-02T03:04:05.678Z',
      level: 'info',
      msg: 'm',
      cluster: 'b',
      field_msg: 'sneaky',
      field_level: 'x',
    });
  });

  it('renders errors, API errors and dates as readable strings and omits undefined fields', () => {
    const { log, lines } = capture();
    const apiErr = new ApiException(
      404,
      'Unsuccessful HTTP Request',
      JSON.stringify({ reason: 'NotFound', message: 'deployments.apps "web" not found' }),
      {},
    );
    log.error('failed', { error: new Error('boom'), api: apiErr, at: new Date(0), gone: undefined, n: 10n });
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      error: 'boom',
      api: 'deployments.apps "web" not found (HTTP 404, NotFound)',
      at: '1970-01-01T00:00:00.000Z',
      n: '10',
    });
    expect(JSON.parse(lines[0] as string)).not.toHaveProperty('gone');
  });

  it('survives fields that cannot be serialised', () => {
    const { log, lines } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info('odd', { cyclic });
    expect(lines).toHaveLength(1);
  });

  it('writes a readable line in text mode', () => {
    const { log, lines } = capture({ format: 'text' });
    log
      .with({ cluster: 'c1' })
      .warn('watch failed, retrying', { delayMs: 2000, error: 'connect ECONNREFUSED' });
    expect(lines).toEqual([
      '03:04:05.678 WARN  watch failed, retrying cluster=c1 delayMs=2000 error="connect ECONNREFUSED"',
    ]);
  });

  it('does not throw when the sink does', () => {
    const log = createLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => log.error('x')).not.toThrow();
  });
});

describe('formatText', () => {
  it('quotes values with spaces, quotes or equals signs and prints objects as JSON', () => {
    const rec: LogFields = {
      ts: '2025-01-02T03:04:05.678Z',
      level: 'info',
      msg: 'm',
      a: 'x=y',
      b: { c: 1 },
      d: null,
    };
    expect(formatText(rec)).toBe('03:04:05.678 INFO  m a="x=y" b={"c":1} d=null');
  });
});

describe('loggerFromEnv', () => {
  const write = (lines: string[]) => (l: string) => lines.push(l);

  it('switches to text and a level from FEDCTL_LOG', () => {
    const lines: string[] = [];
    const log = loggerFromEnv({ write: write(lines) }, { FEDCTL_LOG: 'text,debug' });
    expect(log.level).toBe('debug');
    log.debug('hello');
    expect(lines[0]).toMatch(/ DEBUG hello$/);
  });

  it('reads FEDCTL_LOG_LEVEL over the given default, and defaults to JSON at info', () => {
    expect(loggerFromEnv({}, {}).level).toBe('info');
    expect(loggerFromEnv({ level: 'debug' }, {}).level).toBe('debug');
    expect(loggerFromEnv({ level: 'debug' }, { FEDCTL_LOG_LEVEL: 'ERROR' }).level).toBe('error');
  });

  it('reports words it does not know instead of ignoring them silently', () => {
    const lines: string[] = [];
    loggerFromEnv({ write: write(lines) }, { FEDCTL_LOG: 'txt' });
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'warn', words: ['txt'] });
  });
});

describe('memoryLogger and nopLogger', () => {
  it('collects records of the logger and its children', () => {
    const log = memoryLogger();
    log.with({ cluster: 'c1' }).info('a');
    log.debug('b', { k: 1 });
    expect(log.records.map((r) => [r.msg, r.cluster])).toEqual([
      ['a', 'c1'],
      ['b', undefined],
    ]);
  });

  it('nopLogger accepts everything and writes nothing', () => {
    expect(() => nopLogger.with({ a: 1 }).error('x')).not.toThrow();
  });
});
