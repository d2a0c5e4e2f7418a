import { describe, expect, it } from 'vitest';
import {
  type Cell,
  heapPerCopy,
  linearityChecks,
  memoryModel,
  openWatches,
  parseGrid,
  project,
  table,
} from './scale.ts';

const cell = (clusters: number, objects: number, over: Partial<Cell> = {}): Cell => ({
  clusters,
  objects,
  convergeMs: 10 * clusters * objects,
  updateMs: 12 * clusters * objects,
  memberWritesCreate: 1,
  memberWritesUpdate: 1,
  hostWritesCreate: 2,
  hostWritesUpdate: 1,
  controllerCpuCreateMs: 3,
  controllerCpuUpdateMs: 2.5,
  serverCpuCreate: 0.01 * clusters * objects,
  serverCpuUpdate: 0.008 * clusters * objects,
  rssBytes: 100 * 2 ** 20 + 2000 * clusters * objects,
  heapBytes: 40 * 2 ** 20 + 1000 * clusters * objects,
  watchesPerMember: 7,
  ...over,
});

describe('parseGrid', () => {
  it('uses the default when the variable is unset or empty', () => {
    expect(parseGrid('SCALE_CLUSTERS', undefined, [3, 6, 10])).toEqual([3, 6, 10]);
    expect(parseGrid('SCALE_CLUSTERS', ' ', [3])).toEqual([3]);
  });

  it('sorts and de-duplicates a comma-separated list', () => {
    expect(parseGrid('SCALE_OBJECTS', '5000, 1000,5000', [])).toEqual([1000, 5000]);
  });

  it('names the variable when an entry is not a positive integer', () => {
    expect(() => parseGrid('SCALE_CLUSTERS', '3,x', [])).toThrow(/SCALE_CLUSTERS must be .* got "3,x"/);
    expect(() => parseGrid('SCALE_OBJECTS', '0', [])).toThrow(/SCALE_OBJECTS/);
  });
});

describe('openWatches', () => {
  it('sums the WATCH samples of apiserver_longrunning_requests and ignores other verbs and metrics', () => {
    const text = [
      '# TYPE apiserver_longrunning_requests gauge',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="cluster",subresource="",verb="WATCH",version="v1"} 3',
      'apiserver_longrunning_requests{component="apiserver",group="apps",resource="deployments",scope="cluster",subresource="",verb="WATCH",version="v1"} 2',
      'apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="log",verb="CONNECT",version="v1"} 5',
      'apiserver_watch_events_total{group="",kind="ConfigMap",version="v1"} 99',
    ].join('\n');
    expect(openWatches(text)).toBe(5);
  });
});

describe('heapPerCopy', () => {
  it('divides the heap difference by the copies the larger object count adds', () => {
    const cells = [cell(3, 1000), cell(3, 5000), cell(6, 1000), cell(6, 5000), cell(10, 1000)];
    expect(heapPerCopy(cells)).toEqual(
      new Map([
        [3, 1000],
        [6, 1000],
      ]),
    );
  });
});

describe('memoryModel', () => {
  const split = (clusters: number, objects: number) =>
    cell(clusters, objects, { heapBytes: 40 * 2 ** 20 + 1500 * objects + 700 * clusters * objects });

  it('separates the cost of each member copy from that of each federated object', () => {
    const m = memoryModel(
      [split(3, 1000), split(3, 5000), split(6, 1000), split(6, 5000), split(10, 1000), split(10, 5000)],
      (x) => x.heapBytes,
    );
    expect(m.perCopy).toBeCloseTo(700);
    expect(m.perObject).toBeCloseTo(1500);
    expect(m.fixed).toBeCloseTo(40 * 2 ** 20);
  });

  it('charges the whole per-object cost to copies when one cluster count was measured', () => {
    const m = memoryModel([split(3, 1000), split(3, 5000)], (x) => x.heapBytes);
    expect(m.perCopy).toBeCloseTo(700 + 1500 / 3);
    expect(m.perObject).toBe(0);
    expect(m.fixed).toBeCloseTo(40 * 2 ** 20);
  });

  it('says what is missing when no cluster count has two object counts', () => {
    expect(() => memoryModel([cell(3, 1000), cell(6, 1000)], (x) => x.heapBytes)).toThrow(
      /two object counts at one cluster count/,
    );
  });
});

describe('linearityChecks', () => {
  it('passes perfectly linear costs and scales the goals to the counts measured', () => {
    const checks = linearityChecks([cell(3, 1000), cell(3, 5000), cell(6, 1000), cell(6, 5000)]);
    expect(checks.map((c) => [c.what, c.ratio, Number(c.limit.toFixed(3)), c.ok])).toEqual([
      ['converge 5000 vs 1000 objects at 3 clusters', 5, 5.5, true],
      ['update 5000 vs 1000 objects at 3 clusters', 5, 5.5, true],
      ['converge 5000 vs 1000 objects at 6 clusters', 5, 5.5, true],
      ['update 5000 vs 1000 objects at 6 clusters', 5, 5.5, true],
      ['converge 6 vs 3 clusters at 1000 objects', 2, 2.22, true],
      ['update 6 vs 3 clusters at 1000 objects', 2, 2.22, true],
      ['converge 6 vs 3 clusters at 5000 objects', 2, 2.22, true],
      ['update 6 vs 3 clusters at 5000 objects', 2, 2.22, true],
    ]);
  });

  it('uses the issue’s limits on its own grid and flags a superlinear cost', () => {
    const checks = linearityChecks([cell(3, 1000), cell(10, 1000, { convergeMs: 4 * 30_000 })]);
    expect(checks[0]).toMatchObject({ what: 'converge 10 vs 3 clusters at 1000 objects', ok: false });
    expect(checks[0]!.limit).toBeCloseTo(3.7);
    expect(checks[0]!.ratio).toBeCloseTo(4);
    expect(checks[1]!.ok).toBe(true);
  });
});

describe('project', () => {
  it('extrapolates memory, watches and converge time linearly in copies from the largest cluster count', () => {
    const p = project([cell(3, 1000), cell(3, 5000), cell(6, 1000), cell(6, 5000)], {
      clusters: 100,
      objects: 10_000,
    });
    expect(p.basis).toBe('6 clusters × 1000 and 5000 objects');
    expect(p.heapBytes).toBeCloseTo(40 * 2 ** 20 + 1000 * 1_000_000);
    expect(p.rssBytes).toBeCloseTo(100 * 2 ** 20 + 2000 * 1_000_000);
    expect(p.watches).toBe(700);
    expect(p.convergeMs).toBeCloseTo(10 * 1_000_000);
  });

  it('projects memory with the cost per federated object and per member copy apart', () => {
    const cells = [3, 10].flatMap((c) =>
      [1000, 5000].map((n) => cell(c, n, { heapBytes: 40 * 2 ** 20 + 1500 * n + 700 * c * n })),
    );
    const p = project(cells, { clusters: 100, objects: 10_000 });
    expect(p.heapBytes).toBeCloseTo(40 * 2 ** 20 + 1500 * 10_000 + 700 * 1_000_000);
  });

  it('says what is missing when no cluster count has two object counts', () => {
    expect(() => project([cell(3, 1000), cell(6, 1000)], { clusters: 100, objects: 10_000 })).toThrow(
      /two object counts at one cluster count/,
    );
  });
});

describe('table', () => {
  it('prints one row per cell sorted by clusters then objects, heap per copy where measurable', () => {
    const lines = table([cell(6, 1000), cell(3, 5000), cell(3, 1000)]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| clusters \| objects \| converge s \| update s \|/);
    expect(
      lines.slice(1).map((l) =>
        l
          .split('|')
          .slice(1, 3)
          .map((x) => x.trim()),
      ),
    ).toEqual([
      ['3', '1000'],
      ['3', '5000'],
      ['6', '1000'],
    ]);
    expect(lines[1]).toMatch(
      /\| 30\.0 +\| 36\.0 +\| 1\.00 \/ 1\.00 +\| 2\.00 \/ 1\.00 +\| 3\.00 \/ 2\.50 +\| 30\.0 \/ 24\.0 +\| 106 +\| 43 +\| 7\.0 +\| 1000 +\|$/,
    );
    expect(lines[3]).toMatch(/\| - +\|$/);
  });
});
