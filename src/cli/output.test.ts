import { describe, expect, it } from 'vitest';
import { formatAge, formatOutput, renderTable, toYaml } from './output.ts';

describe('renderTable', () => {
  it('aligns columns under upper-case headers and sorts rows by the first column', () => {
    expect(
      renderTable(
        ['name', 'ready'],
        [
          ['cluster10', 'True'],
          ['cluster2', 'False'],
          ['c', ''],
        ],
      ),
    ).toBe(['NAME        READY', 'c', 'cluster2    False', 'cluster10   True', ''].join('\n'));
  });

  it('keeps the given order when asked to', () => {
    expect(renderTable(['a'], [['b'], ['a']], { sortBy: false })).toBe('A\nb\na\n');
  });

  it('keeps newlines inside a cell from breaking the layout', () => {
    expect(renderTable(['a', 'b'], [['x\ny', 'z']])).toBe('A     B\nx y   z\n');
  });
});

describe('formatAge', () => {
  const now = new Date('2026-01-10T00:00:00Z');
  const ago = (s: number) => new Date(now.getTime() - s * 1000);
  it.each([
    [5, '5s'],
    [119, '119s'],
    [150, '2m30s'],
    [600, '10m'],
    [2 * 3600 + 60, '121m'],
    [5 * 3600 + 600, '5h10m'],
    [30 * 3600, '30h'],
    [3 * 86400 + 3600, '3d1h'],
    [40 * 86400, '40d'],
    [800 * 86400, '2y'],
  ])('%i seconds ago prints as %s', (seconds, expected) => {
    expect(formatAge(ago(seconds), now)).toBe(expected);
  });

  it('prints <unknown> for missing, invalid or future times', () => {
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge('not a date', now)).toBe('<unknown>');
    expect(formatAge(new Date(now.getTime() + 5000), now)).toBe('<unknown>');
  });

  it('accepts the API server string form', () => {
    expect(formatAge('2026-01-09T23:59:00Z', now)).toBe('60s');
  });
});

describe('formatOutput', () => {
  const data = { items: [{ name: 'a', when: new Date('2026-01-01T00:00:00Z') }] };
  const table = () => ({ headers: ['name'], rows: [['a']] });
  it('prints JSON with dates as ISO strings', () => {
    expect(JSON.parse(formatOutput('json', data, table))).toEqual({
      items: [{ name: 'a', when: '2026-01-01T00:00:00.000Z' }],
    });
  });
  it('prints YAML in block style, quoting strings a YAML 1.1 reader would turn into booleans', () => {
    expect(toYaml({ a: [1, 'on', 'x'] })).toBe('a:\n  - 1\n  - "on"\n  - x\n');
  });
  it('prints the table only for the table format', () => {
    expect(formatOutput('table', data, table)).toBe('NAME\na\n');
  });
});
