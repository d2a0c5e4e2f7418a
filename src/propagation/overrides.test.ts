import { describe, expect, it } from 'vitest';
import type { OverrideItem } from '../api/types.ts';
import { applyOverrides, OverrideError, overridesByCluster } from './overrides.ts';

describe('overridesByCluster', () => {
  it('returns an empty map for absent overrides', () => {
    expect(overridesByCluster(undefined).size).toBe(0);
    expect(overridesByCluster(null).size).toBe(0);
    expect(overridesByCluster([]).size).toBe(0);
  });

  it('groups operations by cluster, defaulting op to replace', () => {
    const map = overridesByCluster([
      {
        clusterName: 'c1',
        clusterOverrides: [
          { path: '/spec/replicas', value: 5 },
          { op: '', path: '/spec/paused', value: true },
          { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
          { op: 'remove', path: '/spec/strategy' },
        ],
      },
      { clusterName: 'c2', clusterOverrides: [{ op: 'replace', path: '/spec/replicas', value: 0 }] },
    ]);
    expect([...map.keys()]).toEqual(['c1', 'c2']);
    expect(map.get('c1')).toEqual([
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'replace', path: '/spec/paused', value: true },
      { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
      { op: 'remove', path: '/spec/strategy' },
    ]);
    expect(map.get('c2')).toEqual([{ op: 'replace', path: '/spec/replicas', value: 0 }]);
  });

  it('accepts a cluster entry without clusterOverrides', () => {
    expect(overridesByCluster([{ clusterName: 'c1' }]).get('c1')).toEqual([]);
  });

  it('keeps null as a value (it sets the field to null)', () => {
    expect(
      overridesByCluster([{ clusterName: 'c', clusterOverrides: [{ path: '/spec/x', value: null }] }]).get(
        'c',
      ),
    ).toEqual([{ op: 'replace', path: '/spec/x', value: null }]);
  });

  it('allows overriding apiVersion, as KubeFed did for types served under several groups', () => {
    const ops = overridesByCluster([
      { clusterName: 'c', clusterOverrides: [{ path: '/apiVersion', value: 'extensions/v1beta1' }] },
    ]);
    expect(ops.get('c')).toHaveLength(1);
  });

  it('copies values, so patching a result cannot write into the federated object', () => {
    const value = { a: 1 };
    const items: OverrideItem[] = [{ clusterName: 'c', clusterOverrides: [{ path: '/spec/x', value }] }];
    const op = overridesByCluster(items).get('c')![0] as { value: { a: number } };
    op.value.a = 2;
    expect(value.a).toBe(1);
  });

  it.each<[string, unknown, RegExp, string | undefined, string | undefined]>([
    [
      '/metadata/name',
      { path: '/metadata/name', value: 'x' },
      /override 0 for cluster "c1": path \/metadata\/name cannot be overridden/,
      'c1',
      '/metadata/name',
    ],
    [
      '/metadata/namespace',
      { path: '/metadata/namespace', value: 'x' },
      /path \/metadata\/namespace cannot be overridden/,
      'c1',
      '/metadata/namespace',
    ],
    [
      '/metadata/generateName',
      { op: 'add', path: '/metadata/generateName', value: 'x' },
      /generateName cannot be overridden/,
      'c1',
      '/metadata/generateName',
    ],
    ['/kind', { path: '/kind', value: 'Pod' }, /path \/kind cannot be overridden/, 'c1', '/kind'],
    [
      'removing /metadata/name',
      { op: 'remove', path: '/metadata/name' },
      /cannot be overridden/,
      'c1',
      '/metadata/name',
    ],
    [
      'an unknown op',
      { op: 'move', path: '/spec/a', value: 1 },
      /unknown op "move" at \/spec\/a; expected add, remove or replace/,
      'c1',
      '/spec/a',
    ],
    ['the test op', { op: 'test', path: '/spec/a', value: 1 }, /unknown op "test"/, 'c1', '/spec/a'],
    ['a missing path', { value: 1 }, /override 0 for cluster "c1": path is required/, 'c1', undefined],
    ['an empty path', { path: '', value: 1 }, /path is required/, 'c1', undefined],
    ['a path that is not a string', { path: 3, value: 1 }, /path is required/, 'c1', undefined],
    [
      'a path without a leading slash',
      { path: 'spec/replicas', value: 1 },
      /path "spec\/replicas" must start with "\/"/,
      'c1',
      'spec/replicas',
    ],
  ])('refuses %s, naming cluster and path', (_name, override, message, cluster, path) => {
    const items = [{ clusterName: 'c1', clusterOverrides: [override] }] as OverrideItem[];
    let error: unknown;
    try {
      overridesByCluster(items);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OverrideError);
    expect((error as Error).message).toMatch(message);
    expect((error as OverrideError).cluster).toBe(cluster);
    expect((error as OverrideError).path).toBe(path);
  });

  it('turns a missing value into null, as KubeFed did (its override type omitted empty values)', () => {
    const ops = overridesByCluster([
      {
        clusterName: 'c1',
        clusterOverrides: [{ path: '/spec/replicas' }, { op: 'add', path: '/spec/paused' }],
      },
    ]).get('c1');
    expect(ops).toEqual([
      { op: 'replace', path: '/spec/replicas', value: null },
      { op: 'add', path: '/spec/paused', value: null },
    ]);
  });

  it('refuses a cluster listed twice', () => {
    expect(() => overridesByCluster([{ clusterName: 'c1' }, { clusterName: 'c1' }])).toThrow(
      'cluster "c1" appears more than once in spec.overrides',
    );
  });

  it('refuses a path listed twice for one cluster, but not across clusters', () => {
    expect(() =>
      overridesByCluster([
        {
          clusterName: 'c1',
          clusterOverrides: [
            { path: '/spec/replicas', value: 1 },
            { op: 'add', path: '/spec/replicas', value: 2 },
          ],
        },
      ]),
    ).toThrow('path "/spec/replicas" appears more than once for cluster "c1"');
    expect(() =>
      overridesByCluster([
        { clusterName: 'c1', clusterOverrides: [{ path: '/spec/replicas', value: 1 }] },
        { clusterName: 'c2', clusterOverrides: [{ path: '/spec/replicas', value: 2 }] },
      ]),
    ).not.toThrow();
  });

  it('refuses a missing clusterName and non-list shapes', () => {
    expect(() => overridesByCluster([{ clusterOverrides: [] } as never])).toThrow(
      'spec.overrides[0]: clusterName is required',
    );
    expect(() => overridesByCluster({} as never)).toThrow('spec.overrides must be a list');
    expect(() => overridesByCluster([{ clusterName: 'c', clusterOverrides: {} as never }])).toThrow(
      'cluster "c": clusterOverrides must be a list',
    );
  });
});

describe('applyOverrides', () => {
  const base = () => ({
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'a', image: 'nginx:1' }] } } },
  });

  it('sets a missing object key on replace, like KubeFed’s json-patch v4 (RFC 6902 would fail)', () => {
    const out = applyOverrides(base(), [
      { op: 'replace', path: '/spec/template/spec/nodeSelector', value: { disk: 'ssd' } },
      { op: 'replace', path: '/metadata/labels/a~1b', value: 'x' },
    ]);
    expect(out.spec.template.spec).toEqual({
      containers: [{ name: 'a', image: 'nginx:1' }],
      nodeSelector: { disk: 'ssd' },
    });
    expect(out.metadata.labels).toEqual({ app: 'web', 'a/b': 'x' });
  });

  it('keeps array indexes strict on replace (KubeFed failed there too)', () => {
    expect(() =>
      applyOverrides(base(), [{ op: 'replace', path: '/spec/template/spec/containers/3', value: {} }]),
    ).toThrow(OverrideError);
  });

  it('sets null where an override has no value', () => {
    const out = applyOverrides(base(), [{ op: 'replace', path: '/spec/replicas', value: null }]);
    expect(out.spec.replicas).toBeNull();
  });

  it('applies replace, add and remove in order and returns a new object', () => {
    const obj = base();
    const out = applyOverrides(obj, [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:2' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'b', image: 'busybox' } },
      { op: 'remove', path: '/metadata/labels/app' },
    ]);
    expect(out).toEqual({
      metadata: { name: 'web', labels: { tier: 'gold' } },
      spec: {
        replicas: 5,
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'nginx:2' },
              { name: 'b', image: 'busybox' },
            ],
          },
        },
      },
    });
    expect(obj).toEqual(base());
  });

  it('escapes / in label keys as ~1', () => {
    const out = applyOverrides(base(), [
      { op: 'add', path: '/metadata/labels/example.com~1team', value: 'x' },
    ]);
    expect(out.metadata.labels).toEqual({ app: 'web', 'example.com/team': 'x' });
  });

  it('returns a copy even with no operations', () => {
    const obj = base();
    const out = applyOverrides(obj, []);
    expect(out).toEqual(obj);
    expect(out).not.toBe(obj);
  });

  it('never lets a later change of the result reach the operation values', () => {
    const ops = [{ op: 'add' as const, path: '/spec/extra', value: { list: [1] } }];
    const out = applyOverrides(base(), ops) as unknown as { spec: { extra: { list: number[] } } };
    out.spec.extra.list.push(2);
    expect(ops[0]!.value.list).toEqual([1]);
  });

  it.each([
    [
      { op: 'replace' as const, path: '/spec/no/parent', value: 1 },
      'override replace /spec/no/parent for cluster "c1" failed: the path does not exist in the object',
    ],
    [
      { op: 'remove' as const, path: '/spec/missing' },
      'override remove /spec/missing for cluster "c1" failed: the path does not exist in the object',
    ],
    [
      { op: 'add' as const, path: '/spec/no/parent', value: 1 },
      'override add /spec/no/parent for cluster "c1" failed: the parent of the path does not exist',
    ],
    [
      { op: 'add' as const, path: '/spec/template/spec/containers/5', value: {} },
      'failed: the array index is out of bounds',
    ],
    [
      { op: 'replace' as const, path: '/spec/template/spec/containers/x', value: {} },
      'override replace /spec/template/spec/containers/x',
    ],
  ])('names the op and path that failed: %j', (op, message) => {
    const obj = base();
    expect(() => applyOverrides(obj, [op], 'c1')).toThrow(OverrideError);
    expect(() => applyOverrides(obj, [op], 'c1')).toThrow(message);
    expect(obj).toEqual(base());
  });

  it('reports the failing operation, not the first one', () => {
    expect(() =>
      applyOverrides(base(), [
        { op: 'replace', path: '/spec/replicas', value: 1 },
        { op: 'remove', path: '/spec/nope' },
      ]),
    ).toThrow(/^override remove \/spec\/nope failed/);
  });

  it('refuses prototype pollution', () => {
    expect(() => applyOverrides(base(), [{ op: 'add', path: '/__proto__/polluted', value: true }])).toThrow(
      OverrideError,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
