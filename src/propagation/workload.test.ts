import { describe, expect, it } from 'vitest';
import type { ClusterPropagationStatus, WorkloadState } from '../api/types.ts';
import { clusterReady, summaryColumns, workloadState, workloadTotals } from './workload.ts';

const obj = (apiVersion: string, kind: string, spec: object, status: object | undefined, generation = 2) => ({
  apiVersion,
  kind,
  metadata: { generation },
  spec,
  ...(status !== undefined ? { status } : {}),
});

describe('workloadState: Deployment', () => {
  const d = (spec: object, status: object) => workloadState(obj('apps/v1', 'Deployment', spec, status));
  it.each<[string, object, object, WorkloadState]>([
    [
      'rolled out',
      { replicas: 3 },
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
      { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, healthy: true },
    ],
    [
      'the latest generation not yet observed',
      { replicas: 3 },
      { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
      { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, observed: false, healthy: false },
    ],
    [
      'mid-rollout: old replicas still running',
      { replicas: 3 },
      { observedGeneration: 2, replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
      { desired: 3, replicas: 4, updated: 3, ready: 3, available: 3, healthy: false },
    ],
    [
      'pods not ready (e.g. no node matches)',
      { replicas: 3 },
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 0, availableReplicas: 0 },
      { desired: 3, replicas: 3, updated: 3, ready: 0, available: 0, healthy: false },
    ],
    [
      'progress deadline exceeded',
      { replicas: 2 },
      {
        observedGeneration: 2,
        replicas: 2,
        updatedReplicas: 2,
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' },
        ],
      },
      {
        desired: 2,
        replicas: 2,
        updated: 2,
        ready: 0,
        available: 0,
        healthy: false,
        reason: 'ProgressDeadlineExceeded',
        message: 'timed out',
      },
    ],
    [
      'quota refuses pods',
      { replicas: 1 },
      {
        observedGeneration: 2,
        conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' }],
      },
      {
        desired: 1,
        replicas: 0,
        updated: 0,
        ready: 0,
        available: 0,
        healthy: false,
        reason: 'FailedCreate',
        message: 'quota',
      },
    ],
    [
      'scaled to zero',
      { replicas: 0 },
      { observedGeneration: 2 },
      { desired: 0, replicas: 0, updated: 0, ready: 0, available: 0, healthy: true },
    ],
    [
      'just created (status empty)',
      { replicas: 2 },
      {},
      { desired: 2, replicas: 0, updated: 0, ready: 0, available: 0, observed: false, healthy: false },
    ],
    [
      'replicas unset defaults to 1',
      {},
      { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
      { desired: 1, replicas: 1, updated: 1, ready: 1, available: 1, healthy: true },
    ],
  ])('%s', (_name, spec, status, expected) => {
    expect(d(spec, status)).toEqual(expected);
  });

  it('clips a long member message so the status stays small', () => {
    const s = d(
      { replicas: 1 },
      {
        observedGeneration: 2,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'x'.repeat(5000),
          },
        ],
      },
    );
    expect(s?.message?.length).toBe(200);
  });
});

describe('workloadState: ReplicaSet, StatefulSet, DaemonSet, Job', () => {
  it.each<[string, ReturnType<typeof obj>, WorkloadState]>([
    [
      'ReplicaSet ready',
      obj(
        'apps/v1',
        'ReplicaSet',
        { replicas: 2 },
        { observedGeneration: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2 },
      ),
      { desired: 2, replicas: 2, ready: 2, available: 2, healthy: true },
    ],
    [
      'ReplicaSet short of ready',
      obj(
        'apps/v1',
        'ReplicaSet',
        { replicas: 2 },
        { observedGeneration: 2, replicas: 2, readyReplicas: 1, availableReplicas: 1 },
      ),
      { desired: 2, replicas: 2, ready: 1, available: 1, healthy: false },
    ],
    [
      'StatefulSet rolled out',
      obj(
        'apps/v1',
        'StatefulSet',
        { replicas: 3 },
        {
          observedGeneration: 2,
          replicas: 3,
          updatedReplicas: 3,
          readyReplicas: 3,
          availableReplicas: 3,
          currentRevision: 'web-1',
          updateRevision: 'web-1',
        },
      ),
      { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, healthy: true },
    ],
    [
      'StatefulSet mid-rollout (revisions differ)',
      obj(
        'apps/v1',
        'StatefulSet',
        { replicas: 3 },
        {
          observedGeneration: 2,
          replicas: 3,
          updatedReplicas: 1,
          readyReplicas: 3,
          currentRevision: 'web-1',
          updateRevision: 'web-2',
        },
      ),
      { desired: 3, replicas: 3, updated: 1, ready: 3, healthy: false },
    ],
    [
      'StatefulSet with a partition counts only the pods above it',
      obj(
        'apps/v1',
        'StatefulSet',
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 1, readyReplicas: 3 },
      ),
      { desired: 3, replicas: 3, updated: 1, ready: 3, healthy: true },
    ],
    [
      'StatefulSet OnDelete waits only for ready pods',
      obj(
        'apps/v1',
        'StatefulSet',
        { replicas: 2, updateStrategy: { type: 'OnDelete' } },
        { observedGeneration: 2, replicas: 2, updatedReplicas: 0, readyReplicas: 2 },
      ),
      { desired: 2, replicas: 2, updated: 0, ready: 2, healthy: true },
    ],
    [
      'DaemonSet on every node',
      obj(
        'apps/v1',
        'DaemonSet',
        {},
        {
          observedGeneration: 2,
          desiredNumberScheduled: 4,
          currentNumberScheduled: 4,
          updatedNumberScheduled: 4,
          numberReady: 4,
          numberAvailable: 4,
        },
      ),
      { desired: 4, replicas: 4, updated: 4, ready: 4, available: 4, healthy: true },
    ],
    [
      'DaemonSet still updating',
      obj(
        'apps/v1',
        'DaemonSet',
        {},
        {
          observedGeneration: 2,
          desiredNumberScheduled: 4,
          currentNumberScheduled: 4,
          updatedNumberScheduled: 2,
          numberReady: 4,
          numberAvailable: 4,
        },
      ),
      { desired: 4, replicas: 4, updated: 2, ready: 4, available: 4, healthy: false },
    ],
    [
      'Job complete',
      obj(
        'batch/v1',
        'Job',
        { completions: 2 },
        { succeeded: 2, conditions: [{ type: 'Complete', status: 'True' }] },
      ),
      { desired: 2, ready: 2, active: 0, healthy: true },
    ],
    [
      'Job running',
      obj('batch/v1', 'Job', {}, { active: 1 }),
      { desired: 1, ready: 0, active: 1, healthy: false },
    ],
    [
      'Job failed',
      obj(
        'batch/v1',
        'Job',
        { completions: 1 },
        {
          failed: 7,
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
            },
          ],
        },
      ),
      {
        desired: 1,
        ready: 0,
        active: 0,
        failed: 7,
        healthy: false,
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    ],
  ])('%s', (_name, member, expected) => {
    expect(workloadState(member)).toEqual(expected);
  });
});

describe('workloadState: any other kind (status.conditions and observedGeneration)', () => {
  it.each<[string, ReturnType<typeof obj>, WorkloadState | undefined]>([
    ['a ConfigMap has no workload state', { ...obj('v1', 'ConfigMap', {}, undefined) }, undefined],
    ['a Service with an empty status has none', obj('v1', 'Service', {}, { loadBalancer: {} }), undefined],
    [
      'Ready True',
      obj(
        'example.com/v1',
        'Widget',
        {},
        { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] },
      ),
      { healthy: true },
    ],
    [
      'Ready False carries its reason',
      obj(
        'example.com/v1',
        'Widget',
        {},
        {
          observedGeneration: 2,
          conditions: [{ type: 'Ready', status: 'False', reason: 'Reconciling', message: 'waiting for db' }],
        },
      ),
      { healthy: false, reason: 'Reconciling', message: 'waiting for db' },
    ],
    [
      'Available True (no Ready condition)',
      obj('example.com/v1', 'Widget', {}, { conditions: [{ type: 'Available', status: 'True' }] }),
      { healthy: true },
    ],
    [
      'Degraded True wins over Ready True',
      obj(
        'example.com/v1',
        'Widget',
        {},
        {
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'Degraded', status: 'True', reason: 'OneReplicaDown' },
          ],
        },
      ),
      { healthy: false, reason: 'OneReplicaDown' },
    ],
    [
      'an older generation observed',
      obj(
        'example.com/v1',
        'Widget',
        {},
        { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] },
      ),
      { observed: false, healthy: false },
    ],
    [
      'only observedGeneration, current',
      obj('example.com/v1', 'Widget', {}, { observedGeneration: 2 }),
      { healthy: true },
    ],
    [
      'conditions of unknown types only: observed is enough',
      obj(
        'example.com/v1',
        'Widget',
        {},
        { observedGeneration: 2, conditions: [{ type: 'Synced', status: 'False' }] },
      ),
      { healthy: true },
    ],
  ])('%s', (_name, member, expected) => {
    expect(workloadState(member)).toEqual(expected);
  });

  it('reads nothing from no member', () => {
    expect(workloadState(undefined)).toBeUndefined();
  });
});

describe('workloadTotals and the printer columns', () => {
  const w = (desired: number, ready: number, healthy = desired === ready): WorkloadState => ({
    desired,
    replicas: desired,
    updated: desired,
    ready,
    available: ready,
    healthy,
  });
  it.each<[string, ClusterPropagationStatus[], ReturnType<typeof summaryColumns>]>([
    [
      'three healthy clusters',
      [
        { name: 'a', workload: w(3, 3) },
        { name: 'b', workload: w(3, 3) },
        { name: 'c', workload: w(3, 3) },
      ],
      { ready: '9/9', readyClusters: '3/3' },
    ],
    [
      'one cluster with pods that do not become ready',
      [
        { name: 'a', workload: w(3, 3) },
        { name: 'b', workload: w(3, 3) },
        { name: 'c', workload: w(3, 1) },
      ],
      { ready: '7/9', readyClusters: '2/3' },
    ],
    [
      'a cluster out of sync counts as not ready even with healthy pods',
      [
        { name: 'a', workload: w(3, 3) },
        { name: 'b', status: 'UpdateFailed', workload: w(3, 3) },
      ],
      { ready: '6/6', readyClusters: '1/2' },
    ],
    [
      'an unreachable cluster keeps its last report but its replicas are not counted ready',
      [
        { name: 'a', workload: w(3, 3) },
        { name: 'b', status: 'ClusterNotReady', workload: w(3, 3) },
      ],
      { ready: '3/6', readyClusters: '1/2' },
    ],
    [
      'kinds without replicas: only the clusters column',
      [{ name: 'a' }, { name: 'b', status: 'CreationFailed' }],
      { readyClusters: '1/2' },
    ],
    ['no cluster placed', [], { readyClusters: '0/0' }],
  ])('%s', (_name, clusters, expected) => {
    expect(summaryColumns(workloadTotals(clusters))).toEqual(expected);
  });

  it('sums every count it has', () => {
    expect(
      workloadTotals([
        { name: 'a', workload: w(3, 2) },
        { name: 'b', workload: { desired: 2, ready: 1, active: 1, healthy: false } },
      ]),
    ).toEqual({ clusters: 2, readyClusters: 0, desired: 5, ready: 3, available: 2, updated: 3 });
  });

  it('a cluster is ready when in sync and its workload (if any) is healthy', () => {
    expect(clusterReady({ name: 'a' })).toBe(true);
    expect(clusterReady({ name: 'a', workload: { healthy: false } })).toBe(false);
    expect(clusterReady({ name: 'a', status: 'ClusterNotReady' })).toBe(false);
  });
});
