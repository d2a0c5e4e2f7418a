import { describe, expect, it } from 'vitest';
import type { ClusterPreferences, ReplicaSchedulingPreferenceSpec } from '../api/types.ts';
import { applyPlan, candidateClusters, fnv1, planReplicas, type ReplicaPlan } from './planner.ts';

type Prefs = Record<string, ClusterPreferences>;
const spec = (
  clusters: Prefs | undefined,
  totalReplicas: number,
  rebalance = false,
): ReplicaSchedulingPreferenceSpec => ({
  targetKind: 'FederatedDeployment',
  totalReplicas,
  rebalance,
  ...(clusters ? { clusters } : {}),
});

describe('fnv1', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0x050c5d7e],
    ['foobar', 0x31f0b262],
  ])('hashes %j like Go’s hash/fnv New32', (input, expected) => {
    expect(fnv1(input)).toBe(expected);
  });
});

// Expected layouts are KubeFed v0.10's (its planner tests), so a federation moved from KubeFed keeps
// its replicas where they are. Several depend on the FNV-1 tie-break with an empty key.
describe('planReplicas without current replicas', () => {
  it.each<[string, Prefs | undefined, number, string[], Record<string, number>]>([
    [
      'equal weights, 3 clusters (hash tie-break)',
      { '*': { weight: 1 } },
      50,
      ['A', 'B', 'C'],
      { A: 16, B: 17, C: 17 },
    ],
    ['equal weights, 2 clusters', { '*': { weight: 1 } }, 50, ['A', 'B'], { A: 25, B: 25 }],
    ['one replica, 2 clusters (hash tie-break)', { '*': { weight: 1 } }, 1, ['A', 'B'], { A: 0, B: 1 }],
    [
      'one replica, 4 clusters (hash tie-break)',
      { '*': { weight: 1 } },
      1,
      ['A', 'B', 'C', 'D'],
      { A: 0, B: 0, C: 0, D: 1 },
    ],
    ['one cluster', { '*': { weight: 1 } }, 1, ['A'], { A: 1 }],
    ['no cluster', { '*': { weight: 1 } }, 1, [], {}],
    ['no preferences means weight 1 everywhere', undefined, 50, ['A', 'B'], { A: 25, B: 25 }],
    ['an empty preference map means weight 1 everywhere', {}, 50, ['A', 'B'], { A: 25, B: 25 }],
    ['minimums only', { '*': { minReplicas: 2, weight: 0 } }, 50, ['A', 'B', 'C'], { A: 2, B: 2, C: 2 }],
    [
      'minimums beyond the total (hash order)',
      { '*': { minReplicas: 20, weight: 0 } },
      50,
      ['A', 'B', 'C'],
      { A: 10, B: 20, C: 20 },
    ],
    [
      'an explicit entry beats the wildcard',
      { '*': { minReplicas: 20, weight: 0 }, A: { minReplicas: 100, weight: 1 } },
      50,
      ['A', 'B', 'C'],
      { A: 50, B: 0, C: 0 },
    ],
    [
      'minimum and maximum',
      { '*': { minReplicas: 10, weight: 1, maxReplicas: 12 } },
      50,
      ['A', 'B', 'C'],
      { A: 12, B: 12, C: 12 },
    ],
    [
      'maximum caps every cluster',
      { '*': { weight: 1, maxReplicas: 2 } },
      50,
      ['A', 'B', 'C'],
      { A: 2, B: 2, C: 2 },
    ],
    [
      'zero weight gets nothing',
      { '*': { weight: 0, maxReplicas: 2 } },
      50,
      ['A', 'B', 'C'],
      { A: 0, B: 0, C: 0 },
    ],
    [
      'weights 1:2, clusters without entry get 0',
      { A: { weight: 1 }, B: { weight: 2 } },
      60,
      ['A', 'B', 'C'],
      { A: 20, B: 40, C: 0 },
    ],
    [
      'a heavy weight takes all (rounding up)',
      { A: { weight: 10000 }, B: { weight: 1 } },
      50,
      ['A', 'B', 'C'],
      { A: 50, B: 0, C: 0 },
    ],
    [
      'preferences of unavailable clusters are ignored',
      { A: { weight: 10000 }, B: { weight: 1 } },
      50,
      ['B', 'C'],
      { B: 50, C: 0 },
    ],
    [
      'a full cluster passes its share on',
      { A: { weight: 10000, maxReplicas: 10 }, B: { weight: 1 }, C: { weight: 1 } },
      50,
      ['A', 'B', 'C'],
      { A: 10, B: 20, C: 20 },
    ],
    [
      'two full clusters',
      { A: { weight: 10000, maxReplicas: 10 }, B: { weight: 1 }, C: { weight: 1, maxReplicas: 10 } },
      50,
      ['A', 'B', 'C'],
      { A: 10, B: 30, C: 10 },
    ],
    [
      'several rounds',
      {
        A: { weight: 10000, maxReplicas: 10 },
        B: { weight: 1 },
        C: { weight: 1, maxReplicas: 21 },
        D: { weight: 1, maxReplicas: 10 },
      },
      71,
      ['A', 'B', 'C', 'D'],
      { A: 10, B: 30, C: 21, D: 10 },
    ],
    [
      'five clusters',
      {
        A: { weight: 10000, maxReplicas: 10 },
        B: { weight: 1 },
        C: { weight: 1, maxReplicas: 21 },
        D: { weight: 1, maxReplicas: 10 },
        E: { weight: 1 },
      },
      91,
      ['A', 'B', 'C', 'D', 'E'],
      { A: 10, B: 25, C: 21, D: 10, E: 25 },
    ],
    ['zero replicas', { '*': { weight: 1 } }, 0, ['A', 'B'], { A: 0, B: 0 }],
    [
      'all clusters capped below the total leaves the rest unplaced',
      { '*': { weight: 1, maxReplicas: 1 } },
      5,
      ['A', 'B'],
      { A: 1, B: 1 },
    ],
  ])('%s', (_name, prefs, total, clusters, expected) => {
    const plan = planReplicas({ spec: spec(prefs, total), clusters });
    expect(plan.planned).toEqual(expected);
    expect(plan.replicas).toEqual(expected);
    expect(plan.overflow).toEqual({});
    expect(plan.clusters).toEqual(Object.keys(expected).sort());
  });
});

describe('planReplicas with replicas already running (rebalance false)', () => {
  it.each<[Record<string, number>, number, string[], Record<string, number>]>([
    [{ C: 30 }, 50, ['A', 'B', 'C'], { A: 10, B: 10, C: 30 }],
    [{ A: 30 }, 50, ['A', 'B'], { A: 30, B: 20 }],
    [{ A: 0, B: 8 }, 15, ['A', 'B'], { A: 7, B: 8 }],
    [{ A: 1, B: 8 }, 15, ['A', 'B'], { A: 7, B: 8 }],
    [{ A: 6, B: 8 }, 15, ['A', 'B'], { A: 7, B: 8 }],
    [{ A: 7, B: 8 }, 15, ['A', 'B'], { A: 7, B: 8 }],
    [{ A: 300000 }, 500000, ['A', 'B'], { A: 300000, B: 200000 }],
    [{ A: 10 }, 50, ['A', 'B'], { A: 25, B: 25 }],
    [{ A: 10, B: 70 }, 50, ['A', 'B'], { A: 0, B: 50 }],
    [{ A: 30 }, 1, ['A', 'B'], { A: 1, B: 0 }],
    [{ A: 10, B: 20 }, 50, ['A', 'B'], { A: 25, B: 25 }],
  ])('running %j of %i over %j → %j', (current, total, clusters, expected) => {
    const plan = planReplicas({
      spec: spec({ '*': { weight: 1 } }, total),
      clusters,
      currentReplicas: current,
    });
    expect(plan.planned).toEqual(expected);
    expect(plan.overflow).toEqual({});
  });

  it('ignores running replicas when rebalance is true', () => {
    const plan = planReplicas({
      spec: spec({ '*': { weight: 1 } }, 50, true),
      clusters: ['A', 'B'],
      currentReplicas: { A: 40 },
    });
    expect(plan.planned).toEqual({ A: 25, B: 25 });
  });

  it('does not place replicas in clusters that are not candidates, whatever runs there', () => {
    const plan = planReplicas({
      spec: spec({ '*': { weight: 1 } }, 10),
      clusters: ['A'],
      currentReplicas: { Z: 5 },
    });
    expect(plan.clusters).toEqual(['A']);
    expect(plan.replicas).toEqual({ A: 10 });
  });
});

describe('planReplicas with limited capacity', () => {
  it.each<
    [
      string,
      boolean,
      Prefs,
      number,
      string[],
      Record<string, number>,
      Record<string, number>,
      Record<string, number>,
    ]
  >([
    [
      'overflow beyond capacity is reported',
      true,
      { '*': { weight: 1 } },
      50,
      ['A', 'B', 'C'],
      { C: 10 },
      { A: 20, B: 20, C: 10 },
      { C: 7 },
    ],
    [
      'a heavy cluster at capacity',
      true,
      { A: { weight: 10000 }, B: { weight: 1 } },
      50,
      ['B', 'C'],
      { B: 10 },
      { B: 10, C: 0 },
      { B: 40 },
    ],
    [
      'weights 1:2 with B at capacity',
      true,
      { A: { weight: 1 }, B: { weight: 2 } },
      60,
      ['A', 'B', 'C'],
      { B: 10 },
      { A: 50, B: 10, C: 0 },
      { B: 30 },
    ],
    [
      'several rounds with capacity',
      true,
      {
        A: { weight: 10000, maxReplicas: 10 },
        B: { weight: 1 },
        C: { weight: 1, maxReplicas: 21 },
        D: { weight: 1, maxReplicas: 10 },
      },
      71,
      ['A', 'B', 'C', 'D'],
      { C: 10 },
      { A: 10, B: 41, C: 10, D: 10 },
      { C: 11 },
    ],
    [
      'overflow trimmed to what found no place (rebalance false)',
      false,
      { A: { weight: 1 }, B: { weight: 1 } },
      60,
      ['A', 'B', 'C'],
      { A: 10, B: 10 },
      { A: 10, B: 10, C: 0 },
      { A: 20, B: 20 },
    ],
    [
      'no overflow when others took it (rebalance false)',
      false,
      { A: { weight: 1 }, B: { weight: 5 } },
      60,
      ['A', 'B', 'C'],
      { B: 10 },
      { A: 50, B: 10, C: 0 },
      {},
    ],
    [
      'capacity caps minimums',
      false,
      { '*': { minReplicas: 20, weight: 0 } },
      50,
      ['A', 'B', 'C'],
      { B: 10 },
      { A: 20, B: 10, C: 20 },
      {},
    ],
    [
      'minimums, weight and capacity',
      true,
      { '*': { minReplicas: 20, weight: 1 } },
      60,
      ['A', 'B'],
      { B: 10 },
      { A: 50, B: 10 },
      { B: 15 },
    ],
  ])('%s', (_name, rebalance, prefs, total, clusters, capacity, planned, overflow) => {
    const plan = planReplicas({ spec: spec(prefs, total, rebalance), clusters, estimatedCapacity: capacity });
    expect(plan.planned).toEqual(planned);
    expect(plan.overflow).toEqual(overflow);
    for (const name of plan.clusters) {
      expect(plan.replicas[name]).toBe((planned[name] ?? 0) + (overflow[name] ?? 0));
    }
  });
});

describe('planReplicas, general properties', () => {
  it('never places more than totalReplicas (before overflow) and places all when nothing caps', () => {
    for (let total = 0; total <= 40; total++) {
      for (const n of [1, 2, 3, 5, 7]) {
        const clusters = Array.from({ length: n }, (_, i) => `cluster${i}`);
        const plan = planReplicas({ spec: spec({ '*': { weight: 1 } }, total), clusters, key: 'ns/web' });
        const sum = Object.values(plan.planned).reduce((a, b) => a + b, 0);
        expect(sum).toBe(total);
        // Shares are rounded up, so no cluster gets more than its rounded-up share.
        for (const v of Object.values(plan.planned)) expect(v).toBeLessThanOrEqual(Math.ceil(total / n));
      }
    }
  });

  it('depends on the object key for tie-breaks, so different objects land on different clusters', () => {
    const winners = new Set(
      ['default/web', 'shop/api', 'a/b', 'x/y'].map((key) => {
        const plan = planReplicas({
          spec: spec(undefined, 1),
          clusters: ['cluster1', 'cluster2', 'cluster3'],
          key,
        });
        return Object.entries(plan.planned).find(([, v]) => v === 1)![0];
      }),
    );
    expect(winners).toEqual(new Set(['cluster1', 'cluster2', 'cluster3']));
  });

  it('is deterministic and ignores duplicate cluster names', () => {
    const input = { spec: spec({ '*': { weight: 1 } }, 10), clusters: ['b', 'a', 'b'], key: 'ns/x' };
    expect(planReplicas(input)).toEqual(planReplicas(input));
    expect(planReplicas(input).clusters).toEqual(['a', 'b']);
  });

  it('handles weights whose product with the total exceeds 2^53', () => {
    const plan = planReplicas({
      spec: spec({ A: { weight: Number.MAX_SAFE_INTEGER }, B: { weight: 1 } }, 1_000_000),
      clusters: ['A', 'B'],
    });
    expect(plan.planned).toEqual({ A: 1_000_000, B: 0 });
  });

  it.each([
    [{ ...spec(undefined, -1) }, 'totalReplicas must be a non-negative integer, got -1'],
    [{ ...spec(undefined, 1.5) }, 'totalReplicas must be a non-negative integer'],
    [spec({ A: { weight: -1 } }, 1), 'clusters[A].weight must be a non-negative integer, got -1'],
    [spec({ '*': { minReplicas: -2 } }, 1), 'clusters[A].minReplicas must be a non-negative integer'],
    [
      spec({ '*': { maxReplicas: 'x' as never } }, 1),
      'clusters[A].maxReplicas must be a non-negative integer, got "x"',
    ],
  ])('refuses a malformed preference %#', (s, message) => {
    expect(() => planReplicas({ spec: s, clusters: ['A'] })).toThrow(message);
  });

  it('does not mutate its input', () => {
    const s = spec({ '*': { weight: 1 } }, 10);
    const copy = structuredClone(s);
    planReplicas({ spec: s, clusters: ['A'], currentReplicas: { A: 3 }, estimatedCapacity: { A: 5 } });
    expect(s).toEqual(copy);
  });
});

describe('candidateClusters', () => {
  const ready = [
    { name: 'c2', labels: { region: 'eu' } },
    { name: 'c1', labels: { region: 'us' } },
    { name: 'c3', labels: { region: 'eu' } },
  ];

  it('uses every ready cluster by default, sorted', () => {
    expect(candidateClusters(spec(undefined, 1), ready, { clusters: [{ name: 'c1' }] })).toEqual([
      'c1',
      'c2',
      'c3',
    ]);
  });

  it('intersects with the target’s clusterSelector, ignoring its clusters list', () => {
    const s = { ...spec(undefined, 1), intersectWithClusterSelector: true };
    const placement = { clusters: [{ name: 'c1' }], clusterSelector: { matchLabels: { region: 'eu' } } };
    expect(candidateClusters(s, ready, placement)).toEqual(['c2', 'c3']);
    expect(candidateClusters(s, ready, { clusters: [{ name: 'c1' }] })).toEqual([]);
    expect(candidateClusters(s, ready, { clusterSelector: {} })).toEqual(['c1', 'c2', 'c3']);
  });

  it('intersects with the namespace placement of a namespaced target', () => {
    const s = { ...spec(undefined, 1), intersectWithClusterSelector: true };
    const placement = { clusterSelector: { matchLabels: { region: 'eu' } } };
    expect(candidateClusters(s, ready, placement, { clusters: ['c3', 'c1'] })).toEqual(['c3']);
    expect(candidateClusters(s, ready, placement, { clusters: undefined })).toEqual([]);
    expect(candidateClusters(s, ready, placement, { clusters: undefined, limitedScope: true })).toEqual([
      'c2',
      'c3',
    ]);
  });
});

describe('applyPlan', () => {
  const plan: ReplicaPlan = {
    clusters: ['a', 'b'],
    replicas: { a: 2, b: 0 },
    planned: { a: 2, b: 0 },
    overflow: {},
  };

  it('writes placement and /spec/replicas overrides into an empty spec', () => {
    expect(applyPlan({}, plan)).toEqual({
      placement: { clusters: [{ name: 'a' }, { name: 'b' }] },
      overrides: [
        { clusterName: 'a', clusterOverrides: [{ path: '/spec/replicas', value: 2 }] },
        { clusterName: 'b', clusterOverrides: [{ path: '/spec/replicas', value: 0 }] },
      ],
      changed: true,
    });
  });

  it('reports no change when placement and replica overrides already match', () => {
    const current = applyPlan({}, plan);
    const again = applyPlan(
      { placement: { clusters: [{ name: 'b' }, { name: 'a' }] }, overrides: current.overrides },
      plan,
    );
    expect(again.changed).toBe(false);
    expect(again.placement.clusters).toEqual([{ name: 'b' }, { name: 'a' }]);
  });

  it('keeps other overrides and the clusterSelector, updates and removes replica overrides', () => {
    const out = applyPlan(
      {
        placement: {
          clusters: [{ name: 'a' }, { name: 'gone' }],
          clusterSelector: { matchLabels: { x: 'y' } },
        },
        overrides: [
          {
            clusterName: 'a',
            clusterOverrides: [
              { path: '/spec/template/spec/containers/0/image', value: 'nginx:2' },
              { op: 'add', path: '/spec/replicas', value: 9 },
            ],
          },
          {
            clusterName: 'gone',
            clusterOverrides: [
              { path: '/spec/replicas', value: 4 },
              { path: '/spec/paused', value: true },
            ],
          },
        ],
      },
      plan,
    );
    expect(out).toEqual({
      placement: { clusters: [{ name: 'a' }, { name: 'b' }], clusterSelector: { matchLabels: { x: 'y' } } },
      overrides: [
        {
          clusterName: 'a',
          clusterOverrides: [
            { path: '/spec/template/spec/containers/0/image', value: 'nginx:2' },
            { op: 'add', path: '/spec/replicas', value: 2 },
          ],
        },
        { clusterName: 'gone', clusterOverrides: [{ path: '/spec/paused', value: true }] },
        { clusterName: 'b', clusterOverrides: [{ path: '/spec/replicas', value: 0 }] },
      ],
      changed: true,
    });
  });

  it('does not mutate the current spec', () => {
    const current = {
      overrides: [{ clusterName: 'a', clusterOverrides: [{ path: '/spec/replicas', value: 1 }] }],
    };
    const copy = structuredClone(current);
    applyPlan(current, plan);
    expect(current).toEqual(copy);
  });
});
