import { describe, expect, it } from 'vitest';
import { formatValue, Registry } from './metrics.ts';

describe('Registry exposition', () => {
  it('renders counters, gauges and histograms in the 0.0.4 text format, sorted by name', () => {
    const r = new Registry();
    const reconciles = r.counter('fedctl_reconcile_total', 'Reconciles by result.', ['type', 'result']);
    const ready = r.gauge('fedctl_cluster_ready', 'Member cluster readiness.', ['cluster']);
    const duration = r.histogram('fedctl_reconcile_seconds', 'Reconcile duration.', ['type'], [0.1, 1]);
    reconciles.inc({ type: 'FederatedDeployment', result: 'ok' });
    reconciles.inc({ type: 'FederatedDeployment', result: 'ok' }, 2);
    reconciles.inc({ type: 'FederatedDeployment', result: 'error' });
    ready.set({ cluster: 'c2' }, 0);
    ready.set({ cluster: 'c1' }, 1);
    duration.observe({ type: 'FederatedDeployment' }, 0.05);
    duration.observe({ type: 'FederatedDeployment' }, 0.5);
    duration.observe({ type: 'FederatedDeployment' }, 3);
    expect(r.expose()).toBe(
      [
        '# HELP fedctl_cluster_ready Member cluster readiness.',
        '# TYPE fedctl_cluster_ready gauge',
        'fedctl_cluster_ready{cluster="c1"} 1',
        'fedctl_cluster_ready{cluster="c2"} 0',
        '# HELP fedctl_reconcile_seconds Reconcile duration.',
        '# TYPE fedctl_reconcile_seconds histogram',
        'fedctl_reconcile_seconds_bucket{type="FederatedDeployment",le="0.1"} 1',
        'fedctl_reconcile_seconds_bucket{type="FederatedDeployment",le="1"} 2',
        'fedctl_reconcile_seconds_bucket{type="FederatedDeployment",le="+Inf"} 3',
        'fedctl_reconcile_seconds_sum{type="FederatedDeployment"} 3.55',
        'fedctl_reconcile_seconds_count{type="FederatedDeployment"} 3',
        '# HELP fedctl_reconcile_total Reconciles by result.',
        '# TYPE fedctl_reconcile_total counter',
        'fedctl_reconcile_total{type="FederatedDeployment",result="error"} 1',
        'fedctl_reconcile_total{type="FederatedDeployment",result="ok"} 3',
        '',
      ].join('\n'),
    );
  });

  it('shows a zero sample for unlabelled metrics before their first use', () => {
    const r = new Registry();
    r.counter('a_total', 'A.');
    r.histogram('b_seconds', 'B.', [], [1]);
    expect(r.expose()).toBe(
      [
        '# HELP a_total A.',
        '# TYPE a_total counter',
        'a_total 0',
        '# HELP b_seconds B.',
        '# TYPE b_seconds histogram',
        'b_seconds_bucket{le="1"} 0',
        'b_seconds_bucket{le="+Inf"} 0',
        'b_seconds_sum 0',
        'b_seconds_count 0',
        '',
      ].join('\n'),
    );
  });

  it('shows only HELP and TYPE for a labelled metric without series', () => {
    const r = new Registry();
    r.gauge('g', 'G.', ['x']);
    expect(r.expose()).toBe('# HELP g G.\n# TYPE g gauge\n');
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    r.gauge('g', 'line one\nback\\slash', ['v']).set({ v: 'a"b\\c\nd' }, 1);
    expect(r.expose()).toBe('# HELP g line one\\nback\\\\slash\n# TYPE g gauge\ng{v="a\\"b\\\\c\\nd"} 1\n');
  });

  it('spells infinities and NaN the Prometheus way', () => {
    expect([Infinity, -Infinity, NaN, 1.5, 0].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '1.5', '0']);
  });

  it('runs collect callbacks before rendering', () => {
    const r = new Registry();
    const g = r.gauge('queue_depth', 'Depth.');
    let depth = 0;
    r.onCollect(() => g.set(depth));
    depth = 7;
    expect(r.expose()).toContain('queue_depth 7\n');
  });
});

describe('metrics', () => {
  it('returns the same metric when declared twice the same way and refuses a conflicting declaration', () => {
    const r = new Registry();
    const a = r.counter('x_total', 'X.', ['cluster']);
    expect(r.counter('x_total', 'X again.', ['cluster'])).toBe(a);
    expect(() => r.gauge('x_total', 'X.', ['cluster'])).toThrow(/already registered as counter/);
    expect(() => r.counter('x_total', 'X.', ['other'])).toThrow(/already registered/);
  });

  it('refuses invalid metric and label names', () => {
    const r = new Registry();
    expect(() => r.counter('bad-name', 'h')).toThrow(/invalid metric name/);
    expect(() => r.counter('ok', 'h', ['bad-label'])).toThrow(/invalid label name/);
    expect(() => r.counter('ok2', 'h', ['__reserved'])).toThrow(/invalid label name/);
    expect(() => r.histogram('h', 'h', ['le'])).toThrow(/invalid label name/);
    expect(() => r.counter('ok3', 'h', ['a', 'a'])).toThrow(/duplicate/);
  });

  it('refuses label sets that do not match the declaration', () => {
    const c = new Registry().counter('c_total', 'C.', ['cluster']);
    expect(() => c.inc()).toThrow(/do not match/);
    expect(() => c.inc({ cluster: 'a', extra: 'b' })).toThrow(/do not match/);
  });

  it('counters only go up; gauges go both ways', () => {
    const r = new Registry();
    const c = r.counter('c_total', 'C.');
    c.inc();
    c.inc(4);
    expect(c.get()).toBe(5);
    expect(() => c.inc(-1)).toThrow(/cannot increase/);
    const g = r.gauge('g', 'G.');
    g.inc();
    g.inc(5);
    g.dec(2);
    expect(g.get()).toBe(4);
    g.set(-1);
    expect(g.get()).toBe(-1);
  });

  it('removes one series or resets a metric', () => {
    const r = new Registry();
    const g = r.gauge('ready', 'R.', ['cluster']);
    g.set({ cluster: 'a' }, 1);
    g.set({ cluster: 'b' }, 1);
    g.remove({ cluster: 'a' });
    expect(r.expose()).not.toContain('cluster="a"');
    g.reset();
    expect(r.expose()).not.toContain('cluster="b"');
  });

  it('histogram buckets are cumulative and a timer observes elapsed seconds', () => {
    const h = new Registry().histogram('d', 'D.', [], [1, 5, 2]);
    expect(h.buckets).toEqual([1, 2, 5]);
    h.observe(1);
    h.observe(1.5);
    h.observe(9);
    expect(h.get()).toEqual({ buckets: { '1': 1, '2': 2, '5': 2, '+Inf': 3 }, sum: 11.5, count: 3 });
    let t = 1000;
    const end = h.startTimer({}, () => t);
    t = 3500;
    expect(end()).toBe(2.5);
    expect(h.get().count).toBe(4);
  });
});
