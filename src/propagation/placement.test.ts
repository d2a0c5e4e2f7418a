import { describe, expect, it } from 'vitest';
import type { Placement } from '../api/types.ts';
import {
  type ClusterLabels,
  compileSelector,
  PlacementError,
  placementForNamespaced,
  selectClusters,
  selectorMatches,
} from './placement.ts';

const clusters: ClusterLabels[] = [
  { name: 'c3', labels: { region: 'eu', tier: 'edge' } },
  { name: 'c1', labels: { region: 'us', tier: 'core' } },
  { name: 'c2', labels: { region: 'eu' } },
  { name: 'c4' },
];

describe('selectClusters', () => {
  it.each<[string, Placement | undefined, string[]]>([
    ['no placement selects nothing', undefined, []],
    ['an empty placement selects nothing', {}, []],
    ['a null clusterSelector selects nothing', { clusterSelector: null as never }, []],
    ['an empty clusterSelector selects every cluster', { clusterSelector: {} }, ['c1', 'c2', 'c3', 'c4']],
    ['listed clusters are selected, sorted', { clusters: [{ name: 'c3' }, { name: 'c1' }] }, ['c1', 'c3']],
    [
      'an empty clusters list selects nothing, even with a selector',
      { clusters: [], clusterSelector: {} },
      [],
    ],
    [
      'clusters win over clusterSelector',
      { clusters: [{ name: 'c4' }], clusterSelector: { matchLabels: { region: 'eu' } } },
      ['c4'],
    ],
    [
      'listed clusters that are not joined are ignored',
      { clusters: [{ name: 'gone' }, { name: 'c2' }] },
      ['c2'],
    ],
    ['a cluster listed twice appears once', { clusters: [{ name: 'c2' }, { name: 'c2' }] }, ['c2']],
    [
      'a null clusters list falls back to the selector',
      { clusters: null as never, clusterSelector: {} },
      ['c1', 'c2', 'c3', 'c4'],
    ],
    [
      'matchLabels must all match',
      { clusterSelector: { matchLabels: { region: 'eu', tier: 'edge' } } },
      ['c3'],
    ],
    ['matchLabels with one label', { clusterSelector: { matchLabels: { region: 'eu' } } }, ['c2', 'c3']],
    [
      'matchLabels with an empty value matches only that value',
      { clusterSelector: { matchLabels: { tier: '' } } },
      [],
    ],
    [
      'In selects clusters whose label is one of the values',
      { clusterSelector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['us', 'ap'] }] } },
      ['c1'],
    ],
    [
      'NotIn also selects clusters without the label',
      { clusterSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge'] }] } },
      ['c1', 'c2', 'c4'],
    ],
    [
      'Exists',
      { clusterSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } },
      ['c1', 'c3'],
    ],
    [
      'DoesNotExist',
      { clusterSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist', values: [] }] } },
      ['c2', 'c4'],
    ],
    [
      'matchLabels and matchExpressions are ANDed',
      {
        clusterSelector: {
          matchLabels: { region: 'eu' },
          matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }],
        },
      },
      ['c2'],
    ],
    [
      'several expressions are ANDed',
      {
        clusterSelector: {
          matchExpressions: [
            { key: 'region', operator: 'In', values: ['eu', 'us'] },
            { key: 'tier', operator: 'NotIn', values: ['core'] },
          ],
        },
      },
      ['c2', 'c3'],
    ],
  ])('%s', (_name, placement, expected) => {
    expect(selectClusters(placement, clusters)).toEqual(expected);
  });

  it('selects nothing when no cluster has joined', () => {
    expect(selectClusters({ clusterSelector: {} }, [])).toEqual([]);
    expect(selectClusters({ clusters: [{ name: 'c1' }] }, [])).toEqual([]);
  });

  it('ignores the clusters list when asked for the selector only (replica scheduling)', () => {
    const placement = { clusters: [{ name: 'c4' }], clusterSelector: { matchLabels: { region: 'eu' } } };
    expect(selectClusters(placement, clusters, { selectorOnly: true })).toEqual(['c2', 'c3']);
    expect(selectClusters({ clusters: [{ name: 'c4' }] }, clusters, { selectorOnly: true })).toEqual([]);
  });

  it.each([
    [
      { key: 'region', operator: 'Equals', values: ['eu'] },
      /unknown operator "Equals"; expected one of In, NotIn, Exists, DoesNotExist/,
    ],
    [{ key: 'region', operator: 'in', values: ['eu'] }, /unknown operator "in"/],
    [{ key: 'region', operator: 'In', values: [] }, /operator In needs at least one value/],
    [{ key: 'region', operator: 'NotIn' }, /operator NotIn needs at least one value/],
    [{ key: 'region', operator: 'Exists', values: ['eu'] }, /operator Exists takes no values/],
    [{ key: 'region', operator: 'DoesNotExist', values: ['eu'] }, /operator DoesNotExist takes no values/],
    [{ key: '', operator: 'Exists' }, /matchExpressions\[0\]: key is required/],
  ])('refuses the malformed requirement %j with a PlacementError', (req, message) => {
    const placement = { clusterSelector: { matchExpressions: [req] } } as Placement;
    expect(() => selectClusters(placement, clusters)).toThrow(PlacementError);
    expect(() => selectClusters(placement, clusters)).toThrow(message);
  });

  it('names the failing expression index and key', () => {
    const placement: Placement = {
      clusterSelector: {
        matchExpressions: [
          { key: 'a', operator: 'Exists' },
          { key: 'b', operator: 'Bogus' },
        ],
      },
    };
    expect(() => selectClusters(placement, clusters)).toThrow('clusterSelector.matchExpressions[1] (key b)');
  });

  it('refuses a malformed selector even when no cluster has joined', () => {
    expect(() =>
      selectClusters({ clusterSelector: { matchExpressions: [{ key: 'a', operator: 'X' }] } }, []),
    ).toThrow(PlacementError);
  });

  it('does not mutate its inputs', () => {
    const placement: Placement = { clusters: [{ name: 'c2' }, { name: 'c1' }] };
    const copy = structuredClone(placement);
    const list = structuredClone(clusters);
    selectClusters(placement, list);
    expect(placement).toEqual(copy);
    expect(list).toEqual(clusters);
  });
});

describe('selectorMatches', () => {
  it.each<[Record<string, string>, boolean]>([
    [{ env: 'prod' }, true],
    [{ env: 'prod', extra: 'x' }, true],
    [{ env: 'dev' }, false],
    [{}, false],
  ])('matches %j: %s', (labels, expected) => {
    expect(selectorMatches({ matchLabels: { env: 'prod' } }, labels)).toBe(expected);
  });

  it('treats inherited object properties as absent labels', () => {
    expect(compileSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] })({})).toBe(false);
    expect(compileSelector({ matchLabels: { constructor: 'x' } })({})).toBe(false);
  });
});

describe('placementForNamespaced', () => {
  it.each<[string, string[], string[] | undefined, boolean, string[]]>([
    ['intersects with the namespace placement', ['c1', 'c2', 'c3'], ['c2', 'c3', 'c4'], false, ['c2', 'c3']],
    ['places nothing when the namespace is placed nowhere', ['c1'], [], false, []],
    ['places nothing when the object is placed nowhere', [], ['c1'], false, []],
    ['places nothing when the namespace is not federated', ['c1', 'c2'], undefined, false, []],
    [
      'uses the object placement verbatim in limited scope without a FederatedNamespace',
      ['c2', 'c1'],
      undefined,
      true,
      ['c1', 'c2'],
    ],
    [
      'still intersects in limited scope when a FederatedNamespace exists',
      ['c1', 'c2'],
      ['c2'],
      true,
      ['c2'],
    ],
  ])('%s', (_name, object, namespace, limitedScope, expected) => {
    expect(placementForNamespaced(object, namespace, { limitedScope })).toEqual(expected);
  });
});
