import { describe, expect, it } from 'vitest';
import type { Condition, FederatedObject, ReplicaSchedulingPreferenceSpec } from '../api/types.ts';
import { StaticMemberResource } from '../clusters/member-cache.ts';
import { nopLogger } from '../kube/logger.ts';
import {
  DEPLOYMENT_REF,
  FEDERATED_DEPLOYMENT_REF,
  FEDERATED_REPLICASET_REF,
  REPLICASET_REF,
  RSP_REF,
} from '../kube/refs.ts';
import { StaticHostResource } from '../testing/caches.ts';
import {
  nextStatus,
  runningReplicas,
  type ScheduleDecision,
  SchedulingController,
  scheduledMessage,
  scheduleTarget,
} from './controller.ts';

const KEY = 'web/app';
const ready = ['cluster0', 'cluster1', 'cluster2'].map((name) => ({ name, labels: { region: name } }));
const rsp = (spec: Partial<ReplicaSchedulingPreferenceSpec> = {}) => ({
  key: KEY,
  spec: { targetKind: 'FederatedDeployment', totalReplicas: 9, clusters: { '*': { weight: 1 } }, ...spec },
});
const target = (spec: FederatedObject['spec'] = {}): Pick<FederatedObject, 'spec'> => ({
  spec: { template: { spec: { replicas: 1 } }, ...spec },
});

describe('scheduleTarget', () => {
  it('spreads the replicas over every Ready cluster and writes placement and overrides', () => {
    const d = scheduleTarget({ rsp: rsp(), target: target(), readyClusters: ready });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.plan.replicas).toEqual({ cluster0: 3, cluster1: 3, cluster2: 3 });
    expect(d.scheduled.changed).toBe(true);
    expect(d.scheduled.placement.clusters).toEqual([
      { name: 'cluster0' },
      { name: 'cluster1' },
      { name: 'cluster2' },
    ]);
    expect(d.message).toBe('replicas cluster0: 3, cluster1: 3, cluster2: 3');
  });

  it('keeps the user’s other overrides and reports no change once the plan is written', () => {
    const first = scheduleTarget({
      rsp: rsp(),
      target: target({
        overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path: '/spec/paused', value: true }] }],
      }),
      readyClusters: ready,
    });
    if (!first.ok) throw new Error(first.message);
    expect(first.scheduled.overrides.find((o) => o.clusterName === 'cluster1')?.clusterOverrides).toEqual([
      { path: '/spec/paused', value: true },
      { path: '/spec/replicas', value: 3 },
    ]);
    const again = scheduleTarget({
      rsp: rsp(),
      target: target({ placement: first.scheduled.placement, overrides: first.scheduled.overrides }),
      readyClusters: ready,
    });
    expect(again.ok && again.scheduled.changed).toBe(false);
  });

  it('places a cluster without preferences with 0 replicas (KubeFed placed every candidate)', () => {
    const d = scheduleTarget({
      rsp: rsp({ clusters: { cluster0: { weight: 2 }, cluster1: { weight: 1 } } }),
      target: target(),
      readyClusters: ready,
    });
    expect(d.ok && d.plan.replicas).toEqual({ cluster0: 6, cluster1: 3, cluster2: 0 });
  });

  it('only uses Ready clusters: a cluster that is down is simply not a candidate', () => {
    const d = scheduleTarget({ rsp: rsp(), target: target(), readyClusters: ready.slice(0, 2) });
    expect(d.ok && d.plan.replicas).toHaveProperty('cluster0');
    expect(d.ok && Object.keys(d.plan.replicas)).toEqual(['cluster0', 'cluster1']);
  });

  it('keeps running replicas where they are without rebalance, moves them with it', () => {
    const prefs = { clusters: { '*': { weight: 1 } }, totalReplicas: 6 };
    const current = { cluster0: 6, cluster1: 0, cluster2: 0 };
    const kept = scheduleTarget({
      rsp: rsp(prefs),
      target: target(),
      readyClusters: ready,
      currentReplicas: current,
    });
    expect(kept.ok && kept.plan.replicas).toEqual({ cluster0: 6, cluster1: 0, cluster2: 0 });
    const moved = scheduleTarget({
      rsp: rsp({ ...prefs, rebalance: true }),
      target: target(),
      readyClusters: ready,
      currentReplicas: current,
    });
    expect(moved.ok && moved.plan.replicas).toEqual({ cluster0: 2, cluster1: 2, cluster2: 2 });
  });

  it('intersects with the target’s clusterSelector when asked', () => {
    const d = scheduleTarget({
      rsp: rsp({ intersectWithClusterSelector: true }),
      target: target({ placement: { clusterSelector: { matchLabels: { region: 'cluster1' } } } }),
      readyClusters: ready,
    });
    expect(d.ok && d.plan.replicas).toEqual({ cluster1: 9 });
  });

  it.each<[string, Parameters<typeof scheduleTarget>[0], string]>([
    [
      'an unsupported targetKind',
      { rsp: rsp({ targetKind: 'FederatedStatefulSet' }), target: target(), readyClusters: ready },
      'TargetKindUnsupported',
    ],
    ['a missing target', { rsp: rsp(), target: undefined, readyClusters: ready }, 'TargetNotFound'],
    ['no Ready cluster', { rsp: rsp(), target: target(), readyClusters: [] }, 'NoReadyClusters'],
    [
      'a selector that picks no Ready cluster',
      {
        rsp: rsp({ intersectWithClusterSelector: true }),
        target: target({ placement: { clusterSelector: { matchLabels: { region: 'mars' } } } }),
        readyClusters: ready,
      },
      'NoReadyClusters',
    ],
    [
      'a bad selector',
      {
        rsp: rsp({ intersectWithClusterSelector: true }),
        target: target({
          placement: { clusterSelector: { matchExpressions: [{ key: 'a', operator: 'Near' as 'In' }] } },
        }),
        readyClusters: ready,
      },
      'ComputePlacementFailed',
    ],
    [
      'a negative weight',
      { rsp: rsp({ clusters: { '*': { weight: -1 } } }), target: target(), readyClusters: ready },
      'ComputePlacementFailed',
    ],
  ])('refuses %s with reason %s', (_, input, reason) => {
    const d = scheduleTarget(input);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason).toBe(reason);
  });
});

describe('scheduledMessage', () => {
  it('lists replicas per cluster and what lies beyond capacity', () => {
    expect(
      scheduledMessage({
        clusters: ['a', 'b'],
        replicas: { a: 4, b: 2 },
        planned: { a: 3, b: 2 },
        overflow: { a: 1 },
      }),
    ).toBe('replicas a: 4 (1 beyond capacity), b: 2');
  });
});

describe('nextStatus', () => {
  const now = new Date('2024-01-01T00:00:00Z');
  const later = new Date('2024-01-01T01:00:00Z');
  const fail: ScheduleDecision = { ok: false, reason: 'TargetNotFound', message: 'gone' };

  it('writes a False condition with the reason and the generation', () => {
    expect(nextStatus(undefined, fail, 2, now)).toEqual({
      observedGeneration: 2,
      conditions: [
        {
          type: 'Scheduled',
          status: 'False',
          reason: 'TargetNotFound',
          message: 'gone',
          observedGeneration: 2,
          lastTransitionTime: '2024-01-01T00:00:00Z',
        },
      ],
    });
  });

  it('writes nothing when the stored status already says the same', () => {
    const stored = nextStatus(undefined, fail, 2, now);
    expect(nextStatus(stored, fail, 2, later)).toBeUndefined();
  });

  it('writes again when only the generation moved, keeping the transition time', () => {
    const stored = nextStatus(undefined, fail, 2, now);
    const next = nextStatus(stored, fail, 3, later);
    expect(next?.observedGeneration).toBe(3);
    expect((next?.conditions as Condition[] | undefined)?.[0]?.lastTransitionTime).toBe(
      '2024-01-01T00:00:00Z',
    );
  });
});

describe('runningReplicas', () => {
  it.each<[string, Parameters<typeof runningReplicas>[0], number]>([
    ['a missing workload', undefined, 0],
    ['no status yet', { spec: { replicas: 3 } }, 0],
    ['ready replicas', { spec: { replicas: 3 }, status: { readyReplicas: 2 } }, 2],
    [
      'surge pods of a rolling update, capped at spec.replicas',
      { spec: { replicas: 3 }, status: { readyReplicas: 4 } },
      3,
    ],
    ['no spec.replicas', { status: { readyReplicas: 4 } }, 4],
  ])('counts %s', (_, obj, want) => {
    expect(runningReplicas(obj)).toBe(want);
  });
});

describe('SchedulingController.reconcile (exact writes)', () => {
  const members = ['cluster0', 'cluster1'].map((name) => ({
    name,
    labels: {},
    clients: {} as never,
    cluster: {} as never,
  }));
  const rspObj = (spec: Partial<ReplicaSchedulingPreferenceSpec> = {}) => ({
    metadata: { name: 'app', namespace: 'web', generation: 2, resourceVersion: '10' },
    spec: { targetKind: 'FederatedDeployment', totalReplicas: 4, clusters: { '*': { weight: 1 } }, ...spec },
  });
  const fedDeployment = (spec: FederatedObject['spec'] = {}) => ({
    metadata: { name: 'app', namespace: 'web', generation: 1, resourceVersion: '20' },
    spec: { template: { spec: { replicas: 1 } }, ...spec },
  });
  const setup = (o: { rsp?: object; target?: object; workloads?: Record<string, object[]> } = {}) => {
    const writes: string[] = [];
    const statuses: Record<string, unknown>[] = [];
    const rsps = new StaticHostResource(RSP_REF, [(o.rsp ?? rspObj()) as never]);
    const targets = {
      FederatedDeployment: new StaticHostResource(
        FEDERATED_DEPLOYMENT_REF,
        o.target ? [o.target as never] : [],
      ),
      FederatedReplicaSet: new StaticHostResource(FEDERATED_REPLICASET_REF, []),
    };
    const c = new SchedulingController({
      members: () => members,
      isReady: () => true,
      rsps: rsps as never,
      targets: targets as never,
      workloads: {
        FederatedDeployment: new StaticMemberResource(DEPLOYMENT_REF, (o.workloads ?? {}) as never),
        FederatedReplicaSet: new StaticMemberResource(REPLICASET_REF, {}),
      },
      writer: {
        patchTarget: async (ref, name, namespace, patch) => {
          writes.push(
            `patch ${ref.kind} ${namespace}/${name} @${patch.metadata.resourceVersion}: ${patch.spec.overrides
              .map((x) => `${x.clusterName}=${JSON.stringify(x.clusterOverrides)}`)
              .join(' ')}`,
          );
          return { resourceVersion: '21' };
        },
        patchStatus: async (name, namespace, status) => {
          writes.push(`patchStatus ReplicaSchedulingPreference ${namespace}/${name}`);
          statuses.push(status);
        },
      },
      log: nopLogger,
      now: () => new Date('2025-01-01T00:00:00Z'),
    });
    return { c, writes, statuses, rsps, targets };
  };

  it('writes the plan into the target (at the cached resourceVersion), then the Scheduled status', async () => {
    const t = setup({ target: fedDeployment() });
    expect(await t.c.reconcile('web/app')).toEqual({ result: 'scheduled', wroteTarget: true });
    expect(t.writes).toEqual([
      'patch FederatedDeployment web/app @20: cluster0=[{"path":"/spec/replicas","value":2}] cluster1=[{"path":"/spec/replicas","value":2}]',
      'patchStatus ReplicaSchedulingPreference web/app',
    ]);
    expect((t.statuses[0]!.conditions as Condition[])[0]).toMatchObject({
      type: 'Scheduled',
      status: 'True',
    });
  });

  it('keeps running replicas where the member cache says they run (no rebalance)', async () => {
    const running = (n: number) => [
      { metadata: { name: 'app', namespace: 'web' }, spec: { replicas: n }, status: { readyReplicas: n } },
    ];
    const t = setup({ target: fedDeployment(), workloads: { cluster0: running(4), cluster1: running(0) } });
    await t.c.reconcile('web/app');
    expect(t.writes[0]).toBe(
      'patch FederatedDeployment web/app @20: cluster0=[{"path":"/spec/replicas","value":4}] cluster1=[{"path":"/spec/replicas","value":0}]',
    );
  });

  it('writes only a False status when the target does not exist, and nothing the second time', async () => {
    const t = setup();
    await t.c.reconcile('web/app');
    expect(t.writes).toEqual(['patchStatus ReplicaSchedulingPreference web/app']);
    t.rsps.set([{ ...rspObj(), status: t.statuses[0] } as never]);
    t.writes.length = 0;
    expect(await t.c.reconcile('web/app')).toEqual({ result: 'failed', wroteTarget: false });
    expect(t.writes).toEqual([]);
  });

  it('waits without writing while the target cache has not listed', async () => {
    const t = setup({ target: fedDeployment() });
    t.targets.FederatedDeployment.synced = false;
    expect(await t.c.reconcile('web/app')).toEqual({
      result: 'waiting',
      wroteTarget: false,
      requeueAfterMs: 5000,
    });
    expect(t.writes).toEqual([]);
  });
});
