import { describe, expect, it } from 'vitest';
import type { FederatedStatus } from '../api/types.ts';
import {
  type ClusterOutcome,
  clusterEvents,
  computePropagationStatus,
  statusChange,
  statusChanged,
} from './status.ts';
import { workloadState } from './workload.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T01:00:00Z';

const roll = (
  clusters: ClusterOutcome[],
  extra: Partial<Parameters<typeof computePropagationStatus>[0]> = {},
) => computePropagationStatus({ generation: 3, now: T0, clusters, ...extra });

describe('computePropagationStatus', () => {
  it('reports Propagation True when every cluster is in sync, listing clusters sorted', () => {
    expect(roll([{ name: 'c2' }, { name: 'c1', status: '' }])).toEqual({
      clusters: [
        { lastChange: T0, name: 'c1' },
        { lastChange: T0, name: 'c2' },
      ],
      conditions: [
        {
          lastTransitionTime: T0,
          lastUpdateTime: T0,
          message: 'in sync in c1, c2',
          observedGeneration: 3,
          status: 'True',
          type: 'Propagation',
        },
      ],
      observedGeneration: 3,
      readyClusters: '2/2',
      totals: { clusters: 2, readyClusters: 2 },
    });
  });

  it('carries no reason on True, as KubeFed (its success reason was empty)', () => {
    expect(roll([{ name: 'c1' }]).conditions?.[0]).not.toHaveProperty('reason');
  });

  it('reports True with no clusters when nothing is placed', () => {
    const s = roll([]);
    expect(s.clusters).toEqual([]);
    expect(s.conditions?.[0]).toMatchObject({ status: 'True', message: 'no cluster selected' });
  });

  it('reports False with CheckClusters naming the failing clusters and their codes', () => {
    const s = roll([
      { name: 'c3', status: 'UpdateFailed', message: 'admission webhook denied' },
      { name: 'c1' },
      { name: 'c2', status: 'ClusterNotReady' },
    ]);
    expect(s.clusters).toEqual([
      { lastChange: T0, name: 'c1' },
      { lastChange: T0, name: 'c2', status: 'ClusterNotReady' },
      { lastChange: T0, message: 'admission webhook denied', name: 'c3', status: 'UpdateFailed' },
    ]);
    expect(s.readyClusters).toBe('1/3');
    expect(s.conditions?.[0]).toMatchObject({
      type: 'Propagation',
      status: 'False',
      reason: 'CheckClusters',
      message: 'not in sync in 2 clusters: c2 (ClusterNotReady), c3 (UpdateFailed)',
      observedGeneration: 3,
    });
  });

  it('counts WaitingForRemoval as not in sync', () => {
    expect(roll([{ name: 'c1', status: 'WaitingForRemoval' }]).conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'CheckClusters',
    });
  });

  it('lets an object-level failure win over per-cluster outcomes', () => {
    const s = roll([{ name: 'c1', status: 'CreationFailed' }], {
      failure: { reason: 'NamespaceNotFederated', message: 'namespace shop has no FederatedNamespace' },
    });
    expect(s.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'NamespaceNotFederated',
      message: 'namespace shop has no FederatedNamespace',
    });
    expect(s.clusters).toEqual([{ lastChange: T0, name: 'c1', status: 'CreationFailed' }]);
  });

  it('writes an object-level failure without a message', () => {
    const s = roll([], { failure: { reason: 'ComputePlacementFailed' } });
    expect(s.conditions?.[0]).not.toHaveProperty('message');
  });

  it('drops the message of a cluster that is in sync', () => {
    expect(roll([{ name: 'c1', message: 'stale' }]).clusters).toEqual([{ lastChange: T0, name: 'c1' }]);
  });

  it('carries remote status when collected', () => {
    expect(roll([{ name: 'c1', remoteStatus: { replicas: 2, ready: 1 } }]).clusters).toEqual([
      { lastChange: T0, name: 'c1', remoteStatus: { ready: 1, replicas: 2 } },
    ]);
  });

  it('omits observedGeneration when the generation is unknown', () => {
    const s = roll([], { generation: undefined });
    expect(s).not.toHaveProperty('observedGeneration');
    expect(s.conditions?.[0]).not.toHaveProperty('observedGeneration');
  });

  it('keeps lastTransitionTime while the status does not flip, and moves it when it does', () => {
    const first = roll([{ name: 'c1', status: 'ClusterNotReady' }]);
    const still = roll([{ name: 'c1', status: 'UpdateFailed' }], { previous: first, now: T1 });
    expect(still.conditions?.[0]?.lastTransitionTime).toBe(T0);
    const flipped = roll([{ name: 'c1' }], { previous: still, now: T1 });
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe(T1);
  });

  it('keeps other conditions of the previous status', () => {
    const previous: FederatedStatus = {
      conditions: [{ type: 'Other', status: 'True', lastTransitionTime: T0 }],
    };
    expect(roll([], { previous }).conditions?.map((c) => c.type)).toEqual(['Other', 'Propagation']);
  });

  it('returns a status deep-equal (and JSON-equal) to the previous one when nothing changed', () => {
    const first = roll([{ name: 'c2' }, { name: 'c1', status: 'UpdateFailed', message: 'x' }]);
    const again = roll([{ name: 'c1', status: 'UpdateFailed', message: 'x' }, { name: 'c2' }], {
      previous: first,
      now: T1,
    });
    expect(again).toEqual(first);
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(statusChanged(first, again)).toBe(false);
  });

  it('is JSON-equal to the same status as the API server returns it (keys sorted by Go)', () => {
    const first = roll([{ name: 'c1' }]);
    const fromServer = JSON.parse(JSON.stringify(first)) as FederatedStatus;
    expect(JSON.stringify(roll([{ name: 'c1' }], { previous: fromServer, now: T1 }))).toBe(
      JSON.stringify(fromServer),
    );
  });

  it('rewrites a status written by KubeFed once (adds totals, keeps its lastUpdateTime), then stays put', () => {
    const kubefed: FederatedStatus = {
      observedGeneration: 3,
      conditions: [{ type: 'Propagation', status: 'True', lastTransitionTime: T0, lastUpdateTime: T0 }],
      clusters: [{ name: 'c1' }],
    };
    const first = roll([{ name: 'c1' }], { previous: kubefed, now: T1 });
    expect(first.conditions?.[0]?.lastUpdateTime).toBe(T0);
    expect(first.conditions?.[0]?.lastTransitionTime).toBe(T0);
    expect(statusChanged(kubefed, first)).toBe(true);
    expect(statusChanged(first, roll([{ name: 'c1' }], { previous: first, now: T1 }))).toBe(false);
  });

  it('moves lastUpdateTime on a transition and when changes were propagated, as KubeFed did', () => {
    const first = roll([{ name: 'c1' }]);
    expect(roll([{ name: 'c1' }], { previous: first, now: T1 }).conditions?.[0]?.lastUpdateTime).toBe(T0);
    expect(
      roll([{ name: 'c1' }], { previous: first, now: T1, propagated: true }).conditions?.[0]?.lastUpdateTime,
    ).toBe(T1);
    const failed = roll([{ name: 'c1', status: 'UpdateFailed' }], { previous: first, now: T1 });
    expect(failed.conditions?.[0]).toMatchObject({ lastUpdateTime: T1, lastTransitionTime: T1 });
  });

  it('keeps a cluster’s lastChange while its report is the same, and moves it when it changes', () => {
    const w = { desired: 3, ready: 3, healthy: true };
    const first = roll([{ name: 'c1', version: 'gen:1', workload: w }]);
    const rewritten = roll([{ name: 'c1', version: 'gen:2', workload: w }], { previous: first, now: T1 });
    expect(rewritten.clusters?.[0]?.lastChange).toBe(T0);
    const degraded = roll([{ name: 'c1', version: 'gen:2', workload: { ...w, ready: 2, healthy: false } }], {
      previous: rewritten,
      now: T1,
    });
    expect(degraded.clusters?.[0]?.lastChange).toBe(T1);
    expect(degraded).toMatchObject({ ready: '2/3', readyClusters: '0/1' });
  });

  it('does not mutate the previous status or the outcomes', () => {
    const previous = roll([{ name: 'c1' }]);
    const copy = structuredClone(previous);
    const outcomes = [{ name: 'b' }, { name: 'a', status: 'CreationFailed' }];
    roll(outcomes, { previous, now: T1 });
    expect(previous).toEqual(copy);
    expect(outcomes.map((o) => o.name)).toEqual(['b', 'a']);
  });
});

describe('statusChanged', () => {
  const base = computePropagationStatus({
    generation: 1,
    now: T0,
    clusters: [{ name: 'a' }, { name: 'b', status: 'UpdateFailed' }],
  });

  it.each<[string, FederatedStatus | undefined, boolean]>([
    ['no previous status', undefined, true],
    ['identical', structuredClone(base), false],
    ['clusters in another order', { ...base, clusters: [...(base.clusters ?? [])].reverse() }, false],
    [
      'only lastTransitionTime differs',
      { ...base, conditions: base.conditions?.map((c) => ({ ...c, lastTransitionTime: T1 })) },
      false,
    ],
    ['observedGeneration differs', { ...base, observedGeneration: 2 }, true],
    [
      'a cluster code differs',
      { ...base, clusters: [{ name: 'a' }, { name: 'b', status: 'CreationFailed' }] },
      true,
    ],
    [
      'a cluster message differs',
      { ...base, clusters: [{ name: 'a' }, { name: 'b', status: 'UpdateFailed', message: 'x' }] },
      true,
    ],
    ['a cluster is missing', { ...base, clusters: [{ name: 'a' }] }, true],
    ['a cluster is listed twice', { ...base, clusters: [{ name: 'a' }, { name: 'a' }] }, true],
    [
      'empty status equals missing status code',
      {
        ...base,
        clusters: [
          { name: 'a', status: '' },
          { name: 'b', status: 'UpdateFailed' },
        ],
      },
      false,
    ],
    [
      'the condition message differs',
      { ...base, conditions: base.conditions?.map((c) => ({ ...c, message: 'x' })) },
      true,
    ],
    [
      'remote status differs',
      {
        ...base,
        clusters: [
          { name: 'a', remoteStatus: { x: 1 } },
          { name: 'b', status: 'UpdateFailed' },
        ],
      },
      true,
    ],
  ])('%s → %s', (_name, old, expected) => {
    expect(statusChanged(old, base)).toBe(expected);
  });
});

describe('statusChange: what may wait for the minimum interval', () => {
  const healthy = { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, healthy: true };
  const base = roll([
    { name: 'a', version: 'gen:1', workload: healthy },
    { name: 'b', version: 'gen:1', workload: healthy },
  ]);
  it.each<[string, ClusterOutcome[], 'none' | 'workload' | 'propagation']>([
    [
      'nothing',
      [
        { name: 'a', version: 'gen:1', workload: healthy },
        { name: 'b', version: 'gen:1', workload: healthy },
      ],
      'none',
    ],
    [
      'a member reports fewer ready replicas',
      [
        { name: 'a', version: 'gen:1', workload: { ...healthy, ready: 2, healthy: false } },
        { name: 'b', version: 'gen:1', workload: healthy },
      ],
      'workload',
    ],
    [
      'remote status changes',
      [
        { name: 'a', version: 'gen:1', workload: healthy, remoteStatus: { replicas: 3 } },
        { name: 'b', version: 'gen:1', workload: healthy },
      ],
      'workload',
    ],
    [
      'a member was rewritten (its recorded version moves)',
      [
        { name: 'a', version: 'gen:2', workload: healthy },
        { name: 'b', version: 'gen:1', workload: healthy },
      ],
      'propagation',
    ],
    [
      'a member failed to update',
      [
        { name: 'a', version: 'gen:1', workload: healthy, status: 'UpdateFailed' },
        { name: 'b', version: 'gen:1', workload: healthy },
      ],
      'propagation',
    ],
  ])('%s → %s', (_name, clusters, expected) => {
    expect(statusChange(base, roll(clusters, { previous: base, now: T1 }))).toBe(expected);
  });

  it('treats a status without totals (written by KubeFed or an older fedctl) as a deferrable change', () => {
    const { totals: _t, ready: _r, readyClusters: _c, ...old } = base;
    expect(statusChange(old, base)).toBe('workload');
  });
});

describe('status size', () => {
  it('stays compact with a Deployment in 10 clusters (under 3 KiB of JSON)', () => {
    const member = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { generation: 4 },
      spec: { replicas: 30 },
      status: {
        observedGeneration: 4,
        replicas: 30,
        updatedReplicas: 30,
        readyReplicas: 30,
        availableReplicas: 30,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    };
    const clusters = Array.from({ length: 10 }, (_, i) => ({
      name: `cluster-${String(i).padStart(2, '0')}`,
      version: 'gen:4',
      workload: workloadState(member),
    }));
    const s = roll(clusters);
    const bytes = Buffer.byteLength(JSON.stringify(s));
    // Measured: printed so a change in size shows in the test log.
    process.stderr.write(`[status size] 10 clusters: ${bytes} bytes\n`);
    expect(bytes).toBeLessThan(3 * 1024);
    expect(s).toMatchObject({ ready: '300/300', readyClusters: '10/10' });
  });
});

describe('clusterEvents', () => {
  const ok = (name: string, extra: Partial<ClusterOutcome> = {}): ClusterOutcome => ({ name, ...extra });
  const status = (clusters: ClusterOutcome[]) => roll(clusters);
  it.each<[string, ClusterOutcome[] | undefined, ClusterOutcome[], string[]]>([
    ['nothing changed', [ok('a')], [ok('a')], []],
    ['first status, all in sync', undefined, [ok('a')], []],
    [
      'a cluster fails',
      [ok('a')],
      [ok('a', { status: 'UpdateFailed', message: 'denied' })],
      ['Warning UpdateFailed cluster a: UpdateFailed: denied'],
    ],
    [
      'it fails differently',
      [ok('a', { status: 'UpdateFailed' })],
      [ok('a', { status: 'ClusterNotReady' })],
      ['Warning ClusterNotReady cluster a: ClusterNotReady'],
    ],
    [
      'it recovers',
      [ok('a', { status: 'ClusterNotReady' })],
      [ok('a')],
      ['Normal ClusterRecovered cluster a: in sync again (was ClusterNotReady)'],
    ],
    ['waiting for removal is no failure', [ok('a')], [ok('a', { status: 'WaitingForRemoval' })], []],
    [
      'a workload fails in a cluster',
      [ok('a', { workload: { healthy: true } })],
      [ok('a', { workload: { healthy: false, reason: 'ProgressDeadlineExceeded', message: 'too slow' } })],
      ['Warning WorkloadFailed cluster a: ProgressDeadlineExceeded: too slow'],
    ],
    [
      'a rollout in progress is no failure',
      [ok('a', { workload: { healthy: true } })],
      [ok('a', { workload: { healthy: false } })],
      [],
    ],
    [
      'the workload recovers',
      [ok('a', { workload: { healthy: false, reason: 'BackoffLimitExceeded' } })],
      [ok('a', { workload: { healthy: true } })],
      ['Normal WorkloadRecovered cluster a: recovered from BackoffLimitExceeded'],
    ],
    [
      'the failure clears while a fixed rollout is still under way',
      [ok('a', { workload: { healthy: false, reason: 'ProgressDeadlineExceeded' } })],
      [ok('a', { workload: { healthy: false } })],
      ['Normal WorkloadRecovered cluster a: recovered from ProgressDeadlineExceeded (rolling out)'],
    ],
    [
      'no event once recovered',
      [ok('a', { workload: { healthy: false } })],
      [ok('a', { workload: { healthy: true } })],
      [],
    ],
  ])('%s', (_name, before, after, expected) => {
    const events = clusterEvents(before ? status(before) : undefined, status(after));
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(expected);
  });
});
