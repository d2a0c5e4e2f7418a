import { describe, expect, it } from 'vitest';
import {
  type FigureSpec,
  formatGoal,
  formatSpread,
  formatTable,
  meets,
  type Results,
  record,
  tableRows,
} from './table.ts';

const CREATE: FigureSpec = {
  name: 'bulk create',
  unit: 's',
  decimals: 2,
  goal: { kind: 'ratio', max: 1.15 },
};
const P99: FigureSpec = { name: 'p99', unit: 'ms', decimals: 0, goal: { kind: 'max', max: 300 } };
const STEADY: FigureSpec = {
  name: 'steady writes',
  unit: 'writes',
  decimals: 0,
  goal: { kind: 'max', max: 0 },
};
const RSS: FigureSpec = { name: 'rss', unit: 'MiB', decimals: 0 };

describe('record', () => {
  it('collects one value per repeat with its baseline', () => {
    const r: Results = {};
    record(r, 'fedctl', 'bulk create', 12, 10);
    record(r, 'fedctl', 'bulk create', 11, 10);
    expect(r.fedctl?.['bulk create']).toEqual({ values: [12, 11], baseline: [10, 10] });
  });
  it('refuses a repeat without a baseline once the figure has one', () => {
    const r: Results = {};
    record(r, 'fedctl', 'bulk create', 12, 10);
    expect(() => record(r, 'fedctl', 'bulk create', 11)).toThrow(/every repeat needs a baseline/);
  });
});

describe('meets', () => {
  it('checks a ratio goal on the median of the paired ratios', () => {
    expect(meets(CREATE.goal, { values: [11, 30, 11.4], baseline: [10, 10, 10] })).toBe('yes');
    expect(meets(CREATE.goal, { values: [12, 30, 11.4], baseline: [10, 10, 10] })).toBe('no');
  });
  it('checks an absolute goal on the median value, 0 included', () => {
    expect(meets(P99.goal, { values: [250, 400, 299] })).toBe('yes');
    expect(meets(STEADY.goal, { values: [0] })).toBe('yes');
    expect(meets(STEADY.goal, { values: [1] })).toBe('no');
  });
  it('says nothing without a goal, without samples, or for a ratio goal without a baseline', () => {
    expect(meets(undefined, { values: [1] })).toBe('—');
    expect(meets(P99.goal, undefined)).toBe('—');
    expect(meets(CREATE.goal, { values: [1] })).toBe('—');
  });
});

describe('formatting', () => {
  it('prints one repeat as a number and several with their range', () => {
    expect(formatSpread({ median: 16.3, min: 16.3, max: 16.3, n: 1 }, 's', 2)).toBe('16.30 s');
    expect(formatSpread({ median: 16.3, min: 15.9, max: 17, n: 3 }, 's', 2)).toBe('16.30 s (15.90–17.00)');
    expect(formatSpread({ median: 1.05, min: 1, max: 1.1, n: 2 }, '×', 2)).toBe('1.05× (1.00–1.10)');
    expect(formatSpread({ median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }, 's', 2)).toBe('—');
  });
  it('states goals', () => {
    expect(formatGoal(CREATE.goal, 's')).toBe('≤ 1.15×');
    expect(formatGoal(P99.goal, 'ms')).toBe('≤ 300 ms');
    expect(formatGoal(STEADY.goal, 'writes')).toBe('0');
    expect(formatGoal(undefined, 'MiB')).toBe('—');
  });
});

describe('tableRows', () => {
  const results: Results = {
    fedctl: {
      'bulk create': { values: [12, 11.2], baseline: [10, 10] },
      p99: { values: [180] },
      rss: { values: [300] },
    },
  };
  it('has the columns figure | baseline | peer | ratio | goal | met? for one peer, rows in figure order', () => {
    expect(tableRows([RSS, CREATE, P99, STEADY], results, ['fedctl'])).toEqual([
      ['figure', 'baseline (fedctl testbed)', 'fedctl (median, min–max)', 'ratio', 'goal', 'met?'],
      ['rss', '—', '300 MiB', '—', '—', '—'],
      [
        'bulk create',
        '10.00 s (10.00–10.00)',
        '11.20 s (11.20–12.00)',
        '1.12× (1.12–1.20)',
        '≤ 1.15×',
        'yes',
      ],
      ['p99', '—', '180 ms', '—', '≤ 300 ms', 'yes'],
    ]);
  });
  it('adds a baseline, value and ratio column per further peer, and a met? column each', () => {
    const both: Results = { ...results, kubefed: { p99: { values: [1332] } } };
    const rows = tableRows([P99], both, ['fedctl', 'kubefed']);
    expect(rows[0]).toEqual([
      'figure',
      'baseline (fedctl testbed)',
      'fedctl (median, min–max)',
      'ratio',
      'baseline (kubefed testbed)',
      'kubefed (median, min–max)',
      'ratio',
      'goal',
      'fedctl met?',
      'kubefed met?',
    ]);
    expect(rows[1]).toEqual(['p99', '—', '180 ms', '—', '—', '1332 ms', '—', '≤ 300 ms', 'yes', 'no']);
  });
  it('formats a Markdown table with padded columns', () => {
    expect(
      formatTable([
        ['a', 'bb'],
        ['ccc', 'd'],
      ]),
    ).toBe('| a   | bb |\n|-----|----|\n| ccc | d  |\n');
  });
});
