import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MANAGED_LABEL, SYNC_FINALIZER } from '../api/constants.ts';
import type { KubeObject } from '../api/types.ts';
import { objectKey } from '../kube/refs.ts';
import { memberObject } from './desired.ts';
import {
  type FederatedObject,
  type MemberView,
  parseDeleteOptions,
  type SyncContext,
  syncFederatedObject,
} from './sync.ts';

// Seed member caches, call the reconciler once, assert the exact writes it made.

type Store = Map<string, KubernetesObject>;
const keyOf = (name: string, namespace?: string) => objectKey({ metadata: { name, namespace } });

interface Fixture {
  members: Record<
    string,
    {
      ready?: boolean;
      synced?: boolean;
      everSynced?: boolean;
      labels?: Record<string, string>;
      objects?: KubernetesObject[];
      unmanaged?: KubernetesObject[];
    }
  >;
  adoptResources?: boolean;
  /** Namespace placement; `unknown` = the FederatedNamespace cache has not synced. */
  namespaces?: Record<string, string[] | 'unknown'>;
  hostNamespaceUid?: string;
  failWrites?: Record<string, { code: number; reason: string; message: string }>;
  recorded?: Record<string, string>;
  statusCollection?: boolean;
  /** Minimum interval between status writes, and when the last one was (ms before `now`). */
  statusMinIntervalMs?: number;
  lastStatusWriteMsAgo?: number;
}

const TARGET = { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true };

const NOW = '2026-01-01T00:00:00Z';

function setup(f: Fixture) {
  const writes: string[] = [];
  const events: string[] = [];
  const managed = new Map<string, Store>();
  const unmanaged = new Map<string, Store>();
  const statuses: unknown[] = [];
  const sent: Array<{ op: string; cluster: string; obj: KubernetesObject; options?: unknown }> = [];
  let finalizers: string[] | undefined;
  for (const [name, m] of Object.entries(f.members)) {
    managed.set(
      name,
      new Map((m.objects ?? []).map((o) => [keyOf(o.metadata!.name!, o.metadata?.namespace), o])),
    );
    unmanaged.set(
      name,
      new Map((m.unmanaged ?? []).map((o) => [keyOf(o.metadata!.name!, o.metadata?.namespace), o])),
    );
  }
  const members: MemberView[] = Object.entries(f.members).map(([name, m]) => ({
    name,
    labels: m.labels ?? {},
    ready: m.ready ?? true,
    synced: m.synced ?? true,
    everSynced: m.everSynced ?? m.synced ?? true,
    cached: (n, ns) => managed.get(name)?.get(keyOf(n, ns)),
  }));
  const apiError = (e: { code: number; reason: string; message: string }) =>
    Object.assign(new Error(e.message), {
      code: e.code,
      body: JSON.stringify({ reason: e.reason, message: e.message }),
    });
  const describeObj = (o: KubernetesObject) => `${o.kind} ${keyOf(o.metadata!.name!, o.metadata?.namespace)}`;
  const namespaces = f.namespaces ?? { test: Object.keys(f.members) };
  const ctx: SyncContext = {
    target: TARGET,
    members,
    adoptResources: f.adoptResources ?? true,
    operationTimeoutMs: 1000,
    namespacePlacement: (ns) => {
      const p = namespaces[ns];
      if (p === 'unknown') return { known: false };
      return p === undefined ? { known: true } : { known: true, clusters: p };
    },
    hostNamespaceUid: async () => f.hostNamespaceUid,
    controlPlaneNamespace: 'kube-federation-system',
    recordedVersion: (c) => f.recorded?.[c],
    now: () => new Date(NOW),
    statusCollection: f.statusCollection,
    statusMinIntervalMs: f.statusMinIntervalMs,
    lastStatusWriteAt: () =>
      f.lastStatusWriteMsAgo === undefined ? undefined : Date.parse(NOW) - f.lastStatusWriteMsAgo,
    recordEvents: (_fed, list) => {
      for (const e of list) {
        events.push(`${e.type} ${e.reason} ${e.message}`);
      }
    },
    memberWriter: {
      async create(c, obj) {
        const fail = f.failWrites?.[`create ${c}`];
        if (fail) throw apiError(fail);
        const k = keyOf(obj.metadata!.name!, obj.metadata?.namespace);
        if (unmanaged.get(c)?.has(k))
          throw apiError({ code: 409, reason: 'AlreadyExists', message: 'exists' });
        writes.push(`create ${c} ${describeObj(obj)}`);
        sent.push({ op: 'create', cluster: c, obj });
        return { ...obj, metadata: { ...obj.metadata, resourceVersion: '100', generation: 1 } };
      },
      async replace(c, obj) {
        const verb = obj.metadata?.labels?.[MANAGED_LABEL] === 'true' ? 'update' : 'unlabel';
        writes.push(`${verb} ${c} ${describeObj(obj)}`);
        sent.push({ op: verb, cluster: c, obj });
        return { ...obj, metadata: { ...obj.metadata, resourceVersion: '101', generation: 2 } };
      },
      async delete(c, obj, options) {
        writes.push(`delete ${c} ${describeObj(obj)}`);
        sent.push({ op: 'delete', cluster: c, obj, options });
      },
      async get(c, n, ns) {
        return unmanaged.get(c)?.get(keyOf(n, ns)) ?? managed.get(c)?.get(keyOf(n, ns));
      },
    },
    hostWriter: {
      async setFinalizers(_fed, next) {
        finalizers = next;
        writes.push(`finalizers ${next.join(',') || '-'}`);
      },
      async writeStatus(_fed, status) {
        statuses.push(status);
        writes.push('status');
      },
    },
  };
  return {
    ctx,
    writes,
    sent,
    events,
    statuses: statuses as Array<{
      conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
      clusters: Array<{
        name: string;
        status?: string;
        version?: string;
        workload?: unknown;
        remoteStatus?: unknown;
      }>;
      ready?: string;
      readyClusters?: string;
    }>,
    finalizers: () => finalizers,
  };
}

const fedDeployment = (
  over: Partial<FederatedObject['spec']> = {},
  meta: Partial<KubernetesObject['metadata']> = {},
): FederatedObject => ({
  apiVersion: 'types.kubefed.io/v1beta1',
  kind: 'FederatedDeployment',
  metadata: {
    name: 'web',
    namespace: 'test',
    uid: 'fed-uid',
    generation: 2,
    resourceVersion: '50',
    finalizers: [SYNC_FINALIZER],
    ...meta,
  },
  spec: {
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } },
    },
    placement: { clusters: [{ name: 'cluster0' }, { name: 'cluster1' }] },
    ...over,
  },
});

/**
 * A member copy as fedctl wrote it for `fed` and the API server returned it: the member object fedctl
 * builds, plus server-filled fields and defaults.
 */
const memberCopy = (
  fed: FederatedObject = fedDeployment(),
  change: (o: KubeObject) => void = () => undefined,
): KubernetesObject => {
  const o = memberObject({ fed, target: TARGET }) as KubeObject;
  o.metadata = { ...o.metadata, resourceVersion: '7', uid: 'member-uid', generation: 1 };
  const spec = o.spec as {
    progressDeadlineSeconds?: number;
    template: { spec: { containers: object[]; restartPolicy?: string } };
  };
  spec.progressDeadlineSeconds = 600;
  spec.template.spec.restartPolicy = 'Always';
  spec.template.spec.containers = spec.template.spec.containers.map((c) => ({
    ...c,
    imagePullPolicy: 'Always',
  }));
  o.status = { replicas: 3 };
  change(o);
  return o as KubernetesObject;
};

/** A managed copy fedctl never stamped (made by KubeFed, by hand, or restored from a backup). */
const foreignCopy = (): KubernetesObject =>
  memberCopy(fedDeployment(), (o) => {
    o.metadata!.annotations = {};
  });

/** Member writes run concurrently, so compare them as sets (sorted); the tests that care about order check it directly. */
const expectWrites = (actual: string[], expected: string[]) =>
  expect([...actual].sort()).toEqual([...expected].sort());

/** The federated object with the status a previous reconcile wrote (as the host cache would show it). */
async function afterFirstPass(f: Fixture, fed: FederatedObject): Promise<FederatedObject> {
  const { ctx, statuses } = setup(f);
  await syncFederatedObject('web', 'test', fed, ctx);
  return statuses.length > 0 ? { ...fed, status: statuses.at(-1) as never } : fed;
}

describe('syncFederatedObject: propagation', () => {
  it('creates the object in every placed cluster and reports Propagation True', async () => {
    const { ctx, writes, statuses, sent } = setup({ members: { cluster0: {}, cluster1: {}, cluster2: {} } });
    const r = await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, [
      'create cluster0 Deployment test/web',
      'create cluster1 Deployment test/web',
      'status',
    ]);
    expect(r.retry).toBe(false);
    expect(statuses[0]?.conditions[0]).toMatchObject({ type: 'Propagation', status: 'True' });
    // Ownership and what was written ride on the create itself: no extra write.
    expect(sent[0]?.obj.metadata?.annotations).toMatchObject({
      'fedctl.io/owner-uid': 'fed-uid',
      'fedctl.io/template-hash': expect.stringMatching(/^[0-9a-f]{20}$/),
    });
    // The member's version after the write is recorded in status.
    // The member's version after the write is recorded in status, with the workload as the create
    // returned it (not yet observed by the member's controller).
    const justCreated = {
      desired: 3,
      replicas: 0,
      updated: 0,
      ready: 0,
      available: 0,
      observed: false,
      healthy: false,
    };
    expect(statuses[0]?.clusters).toEqual([
      { name: 'cluster0', version: 'gen:1', workload: justCreated, lastChange: '2026-01-01T00:00:00Z' },
      { name: 'cluster1', version: 'gen:1', workload: justCreated, lastChange: '2026-01-01T00:00:00Z' },
    ]);
  });

  it('sends no write at all when every member matches and the status is current (steady state, restart)', async () => {
    const f: Fixture = {
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    };
    const fed = await afterFirstPass(f, fedDeployment());
    const { ctx, writes } = setup(f);
    const steady = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, []);
    expect(steady.writes).toBe(0);
  });

  it('applies per-cluster overrides after retention and updates only where they change the object', async () => {
    const fed = fedDeployment({
      retainReplicas: true,
      overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path: '/spec/replicas', value: 5 }] }],
    });
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [memberCopy(fed)] }, cluster1: { objects: [memberCopy(fed)] } },
    });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['update cluster1 Deployment test/web', 'status']);
    // The override beats retainReplicas (KubeFed's order: template → retention → overrides).
    expect((sent[0]!.obj as unknown as { spec: { replicas: number } }).spec.replicas).toBe(5);
  });

  it('removes from the member what the template no longer has (a full update, not a subset check)', async () => {
    const withLimits = fedDeployment();
    (withLimits.spec!.template!.spec as { paused?: boolean }).paused = true;
    const copy = memberCopy(withLimits);
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [copy] }, cluster1: { objects: [copy] } },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, [
      'update cluster0 Deployment test/web',
      'update cluster1 Deployment test/web',
      'status',
    ]);
    expect((sent[0]!.obj as KubeObject).spec).not.toHaveProperty('paused');
  });

  it('rewrites a member someone else changed (its version differs from the one recorded)', async () => {
    const f: Fixture = {
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    };
    const fed = await afterFirstPass(f, fedDeployment());
    const edited = memberCopy(fedDeployment(), (o) => {
      o.metadata!.generation = 2; // e.g. `kubectl set env` added a variable outside the template
    });
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [edited] }, cluster1: { objects: [memberCopy()] } },
    });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['update cluster0 Deployment test/web', 'status']);
  });

  it('removes a label added by hand to a member', async () => {
    const labelled = memberCopy(fedDeployment(), (o) => {
      o.metadata!.labels = { ...o.metadata!.labels, extra: 'by-hand' };
    });
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [labelled] }, cluster1: { objects: [memberCopy()] } },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['update cluster0 Deployment test/web', 'status']);
    expect(sent[0]?.obj.metadata?.labels).not.toHaveProperty('extra');
  });

  it('keeps annotations the member’s controllers added across template edits', async () => {
    const copy = memberCopy(fedDeployment(), (o) => {
      o.metadata!.annotations = { ...o.metadata!.annotations, 'deployment.kubernetes.io/revision': '3' };
    });
    const changed = fedDeployment();
    (changed.spec!.template!.spec as { replicas: number }).replicas = 4;
    const { ctx, sent } = setup({
      members: { cluster0: { objects: [copy] }, cluster1: { objects: [copy] } },
    });
    await syncFederatedObject('web', 'test', changed, ctx);
    expect(sent[0]?.obj.metadata?.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3' });
  });

  it('adopts a managed copy it never stamped, with one update', async () => {
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [foreignCopy()] }, cluster1: { objects: [memberCopy()] } },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['update cluster0 Deployment test/web', 'status']);
    expect(sent[0]?.obj.metadata?.annotations?.['fedctl.io/owner-uid']).toBe('fed-uid');
  });

  it('reports ClusterNotReady for an unready cluster and still propagates to the others', async () => {
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: { ready: false } } });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster1', status: 'ClusterNotReady' }),
    );
    expect(statuses[0]?.conditions[0]).toMatchObject({ type: 'Propagation', status: 'False' });
  });

  it('keeps the last report for a cluster whose cache has not synced yet (no status flap after a restart)', async () => {
    const f: Fixture = {
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    };
    const fed = await afterFirstPass(f, fedDeployment());
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { synced: false, everSynced: false } },
    });
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, []);
    expect(r.requeueAfterMs).toBe(1000);
  });

  it('reports CreationFailed for one cluster and keeps the other converged', async () => {
    const { ctx, writes, statuses } = setup({
      members: { cluster0: {}, cluster1: {} },
      failWrites: { 'create cluster1': { code: 500, reason: 'InternalError', message: 'boom' } },
    });
    const r = await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster1', status: 'CreationFailed' }),
    );
    expect(r.retry).toBe(true);
  });

  it('adopts an existing unlabelled object', async () => {
    const existing = foreignCopy();
    delete existing.metadata!.labels![MANAGED_LABEL];
    const { ctx, writes } = setup({ members: { cluster0: { unmanaged: [existing] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, [
      'update cluster0 Deployment test/web',
      'create cluster1 Deployment test/web',
      'status',
    ]);
  });

  it('reports AlreadyExists instead of adopting when adoption is disabled', async () => {
    const existing = foreignCopy();
    delete existing.metadata!.labels![MANAGED_LABEL];
    const { ctx, writes, statuses } = setup({
      adoptResources: false,
      members: { cluster0: { unmanaged: [existing] }, cluster1: {} },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster1 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster0', status: 'AlreadyExists' }),
    );
  });

  it('leaves an object labelled managed=false untouched and reports ManagedLabelFalse', async () => {
    const existing = foreignCopy();
    existing.metadata!.labels![MANAGED_LABEL] = 'false';
    const { ctx, writes, statuses } = setup({
      members: { cluster0: { unmanaged: [existing] }, cluster1: {} },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster1 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster0', status: 'ManagedLabelFalse' }),
    );
  });

  it('refuses an override of /metadata/name for that cluster only, with no retry', async () => {
    const fed = fedDeployment({
      overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path: '/metadata/name', value: 'x' }] }],
    });
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: {} } });
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(r.retry).toBe(false);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({
        name: 'cluster1',
        status: 'ApplyOverridesFailed',
        message: expect.stringContaining('/metadata/name'),
      }),
    );
  });

  it('keeps the managed label even when an override replaces all labels', async () => {
    const fed = fedDeployment({
      overrides: [
        { clusterName: 'cluster0', clusterOverrides: [{ path: '/metadata/labels', value: { team: 'a' } }] },
      ],
    });
    const { ctx, sent } = setup({ members: { cluster0: {} } });
    await syncFederatedObject('web', 'test', fed, ctx);
    expect(sent[0]?.obj.metadata?.labels).toEqual({ team: 'a', [MANAGED_LABEL]: 'true' });
  });

  it('reports a placement naming an unknown cluster as ClusterNotFound', async () => {
    const fed = fedDeployment({ placement: { clusters: [{ name: 'cluster0' }, { name: 'nope' }] } });
    const { ctx, statuses } = setup({ members: { cluster0: {} } });
    await syncFederatedObject('web', 'test', fed, ctx);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'nope', status: 'ClusterNotFound' }),
    );
  });

  it('adds the finalizer alongside the first writes, and fails the reconcile when it cannot', async () => {
    const { ctx, writes } = setup({ members: { cluster0: {} } });
    await syncFederatedObject(
      'web',
      'test',
      fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } }, { finalizers: [] }),
      ctx,
    );
    expect(writes).toContain(`finalizers ${SYNC_FINALIZER}`);
    const failing = setup({ members: { cluster0: {} } });
    failing.ctx.hostWriter.setFinalizers = async () => {
      throw Object.assign(new Error('conflict'), { code: 409, body: JSON.stringify({ reason: 'Conflict' }) });
    };
    await expect(
      syncFederatedObject('web', 'test', fedDeployment({}, { finalizers: [] }), failing.ctx),
    ).rejects.toThrow('conflict');
  });
});

describe('syncFederatedObject: what is deleted, and when', () => {
  it('deletes its own copy from a cluster removed from placement, exactly that object', async () => {
    const fed = fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } });
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    });
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['delete cluster1 Deployment test/web', 'status']);
    expect(sent[0]?.options).toEqual({ preconditions: { uid: 'member-uid' } });
    expect(r.retry).toBe(false);
  });

  it('only unlabels a managed copy it cannot prove it made when the cluster is left out', async () => {
    const fed = fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } });
    const { ctx, writes, sent } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [foreignCopy()] } },
    });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['unlabel cluster1 Deployment test/web', 'status']);
    expect(sent[0]?.obj.metadata?.labels).not.toHaveProperty(MANAGED_LABEL);
  });

  it('writes nothing to members while the FederatedNamespace cache has not synced (restart, leader change)', async () => {
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
      namespaces: { test: 'unknown' },
    });
    const fed = await afterFirstPass(
      { members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } } },
      fedDeployment(),
    );
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, []);
    expect(r.requeueAfterMs).toBe(1000);
  });

  it('reports NamespaceNotFederated and keeps member copies when the namespace has no FederatedNamespace', async () => {
    const { ctx, writes, statuses } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: {} },
      namespaces: {},
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['status']);
    expect(statuses[0]?.conditions[0]).toMatchObject({ status: 'False', reason: 'NamespaceNotFederated' });
  });

  it('places only in the intersection with the FederatedNamespace clusters', async () => {
    const { ctx, writes } = setup({
      members: { cluster0: {}, cluster1: {} },
      namespaces: { test: ['cluster1'] },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster1 Deployment test/web', 'status']);
  });

  it('on deletion deletes its copies, keeps the finalizer until they are gone, then drops it', async () => {
    const deleting = fedDeployment({}, { deletionTimestamp: new Date() });
    const { ctx, writes } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    const r = await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['delete cluster0 Deployment test/web', 'status']);
    expect(r.requeueAfterMs).toBe(1000);
    const after = setup({ members: { cluster0: {}, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, after.ctx);
    expectWrites(after.writes, ['finalizers -']);
    expect(after.finalizers()).toEqual([]);
  });

  it('deletes with the kubefed.io/deleteoption of the federated object', async () => {
    const deleting = fedDeployment(
      {},
      {
        deletionTimestamp: new Date(),
        annotations: { 'kubefed.io/deleteoption': '{"propagationPolicy":"Orphan"}' },
      },
    );
    const { ctx, sent } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, ctx);
    expect(sent[0]?.options).toEqual({ propagationPolicy: 'Orphan', preconditions: { uid: 'member-uid' } });
  });

  it('keeps member copies and reports an invalid kubefed.io/deleteoption', async () => {
    const deleting = fedDeployment(
      {},
      { deletionTimestamp: new Date(), annotations: { 'kubefed.io/deleteoption': '{nope' } },
    );
    const { ctx, writes, statuses } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: {} },
    });
    await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['status']);
    expect(statuses[0]?.clusters[0]).toMatchObject({ name: 'cluster0', status: 'DeletionFailed' });
  });

  it('on orphaning deletion removes the managed label and fedctl’s annotations, keeps the objects', async () => {
    const deleting = fedDeployment(
      {},
      { deletionTimestamp: new Date(), annotations: { 'kubefed.io/orphan': 'true' } },
    );
    const { ctx, writes, sent } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['unlabel cluster0 Deployment test/web', 'finalizers -']);
    expect(sent[0]?.obj.metadata?.annotations).toEqual({});
  });

  it('deletes in the Ready clusters at once and keeps the finalizer for a cluster that is down', async () => {
    const deleting = fedDeployment({}, { deletionTimestamp: new Date() });
    const { ctx, writes, statuses } = setup({
      members: { cluster0: { objects: [memberCopy()], ready: false }, cluster1: { objects: [memberCopy()] } },
    });
    const r = await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['delete cluster1 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster0', status: 'ClusterNotReady' }),
    );
    expect(r.requeueAfterMs).toBe(1000); // cluster1's removal in progress
    // Once only the down cluster is left, nothing polls: its return re-queues the object.
    const later = setup({ members: { cluster0: { objects: [memberCopy()], ready: false }, cluster1: {} } });
    const idle = await syncFederatedObject('web', 'test', deleting, later.ctx);
    expect(idle).toMatchObject({ retry: false });
    expect(idle.requeueAfterMs).toBeUndefined();
  });

  it('honours an orphaning deletion in a cluster that comes back', async () => {
    const deleting = fedDeployment(
      {},
      { deletionTimestamp: new Date(), annotations: { 'kubefed.io/orphan': 'true' } },
    );
    const down = setup({ members: { cluster0: { objects: [memberCopy()], ready: false }, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, down.ctx);
    expectWrites(down.writes, ['status']);
    const back = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, back.ctx);
    expectWrites(back.writes, ['unlabel cluster0 Deployment test/web', 'finalizers -']);
  });

  it('only unlabels a managed stray whose federated object does not exist', async () => {
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [foreignCopy()] } },
    });
    await syncFederatedObject('web', 'test', undefined, ctx);
    expectWrites(writes, ['unlabel cluster0 Deployment test/web', 'unlabel cluster1 Deployment test/web']);
  });

  it('never deletes the host’s own namespace (recognised by UID, not URL), only unlabels it', async () => {
    const ns = (uid: string): KubernetesObject => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'test',
        uid,
        labels: { [MANAGED_LABEL]: 'true' },
        annotations: { 'fedctl.io/owner-uid': 'fed-uid' },
      },
    });
    const fedNs: FederatedObject = {
      kind: 'FederatedNamespace',
      metadata: {
        name: 'test',
        namespace: 'test',
        uid: 'fed-uid',
        finalizers: [SYNC_FINALIZER],
        deletionTimestamp: new Date(),
      },
      spec: { placement: { clusterSelector: {} } },
    };
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [ns('host-ns-uid')] }, cluster1: { objects: [ns('other')] } },
      hostNamespaceUid: 'host-ns-uid',
    });
    ctx.target = { apiVersion: 'v1', kind: 'Namespace', namespaced: false };
    await syncFederatedObject('test', 'test', fedNs, ctx);
    expectWrites(writes, ['unlabel cluster0 Namespace test', 'delete cluster1 Namespace test', 'status']);
  });

  it('releases a FederatedNamespace whose host namespace is being deleted (no deadlock on its own finalizer)', async () => {
    const hostNs: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'test',
        uid: 'host-ns-uid',
        deletionTimestamp: new Date(),
        labels: { [MANAGED_LABEL]: 'true' },
      },
    };
    const fedNs: FederatedObject = {
      kind: 'FederatedNamespace',
      metadata: {
        name: 'test',
        namespace: 'test',
        uid: 'fed-uid',
        finalizers: [SYNC_FINALIZER],
        deletionTimestamp: new Date(),
      },
      spec: { placement: { clusterSelector: {} } },
    };
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [hostNs] }, cluster1: {} },
      hostNamespaceUid: 'host-ns-uid',
    });
    ctx.target = { apiVersion: 'v1', kind: 'Namespace', namespaced: false };
    await syncFederatedObject('test', 'test', fedNs, ctx);
    expectWrites(writes, ['finalizers -']);
  });

  it.each([
    ['a FederatedNamespace named unlike its namespace', 'other', 'test', 'NamespaceNameMismatch', 'False'],
    ['kube-system', 'kube-system', 'kube-system', 'ProtectedNamespace', 'True'],
    ['default', 'default', 'default', 'ProtectedNamespace', 'True'],
    [
      'the control-plane namespace',
      'kube-federation-system',
      'kube-federation-system',
      'ProtectedNamespace',
      'True',
    ],
  ])('never touches members for %s, and says why', async (_name, name, namespace, reason, status) => {
    const existing: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: 'm', labels: { [MANAGED_LABEL]: 'true' } },
    };
    const fedNs: FederatedObject = {
      kind: 'FederatedNamespace',
      metadata: { name, namespace, uid: 'fed-uid', finalizers: [] },
      spec: { placement: { clusterSelector: {} } },
    };
    const { ctx, writes, statuses } = setup({ members: { cluster0: { objects: [existing] }, cluster1: {} } });
    ctx.target = { apiVersion: 'v1', kind: 'Namespace', namespaced: false };
    await syncFederatedObject(name, namespace, fedNs, ctx);
    expectWrites(writes, ['status']);
    expect(statuses[0]?.conditions[0]).toMatchObject({ status, reason });
    const deleting = setup({ members: { cluster0: { objects: [existing] }, cluster1: {} } });
    deleting.ctx.target = ctx.target;
    await syncFederatedObject(
      name,
      namespace,
      {
        ...fedNs,
        metadata: { ...fedNs.metadata, deletionTimestamp: new Date(), finalizers: [SYNC_FINALIZER] },
      },
      deleting.ctx,
    );
    expectWrites(deleting.writes, ['finalizers -']);
  });
});

describe('syncFederatedObject: workload status', () => {
  const rolledOut = (o: KubeObject) => {
    o.status = {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    };
  };
  const pending = (o: KubeObject) => {
    o.status = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 0 };
  };

  it('reports each cluster’s workload from its cached copy, and the totals, with no member write', async () => {
    const { ctx, writes, statuses } = setup({
      members: {
        cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] },
        cluster1: { objects: [memberCopy(fedDeployment(), pending)] },
      },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['status']);
    expect(statuses[0]?.clusters.map((c) => [c.name, c.workload])).toEqual([
      ['cluster0', { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, healthy: true }],
      ['cluster1', { desired: 3, replicas: 3, updated: 3, ready: 0, available: 0, healthy: false }],
    ]);
    expect(statuses[0]).toMatchObject({ ready: '3/6', readyClusters: '1/2' });
    // Propagation is about fedctl's writes: still True.
    expect(statuses[0]?.conditions[0]).toMatchObject({ type: 'Propagation', status: 'True' });
  });

  it('writes nothing on a restart with nothing changed (workload state is stable)', async () => {
    const f: Fixture = {
      members: {
        cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] },
        cluster1: { objects: [memberCopy(fedDeployment(), pending)] },
      },
      statusMinIntervalMs: 5000,
    };
    const fed = await afterFirstPass(f, fedDeployment());
    const { ctx, writes } = setup(f);
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, []);
    expect(r.requeueAfterMs).toBeUndefined();
  });

  it('defers a workload-only change until the minimum interval has passed, then writes it', async () => {
    const before: Fixture = { members: { cluster0: { objects: [memberCopy(fedDeployment(), pending)] } } };
    const fed = await afterFirstPass(
      before,
      fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } }),
    );
    const changed = (ago: number): Fixture => ({
      members: { cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] } },
      statusMinIntervalMs: 5000,
      lastStatusWriteMsAgo: ago,
    });
    const soon = setup(changed(1000));
    const r = await syncFederatedObject('web', 'test', fed, soon.ctx);
    expectWrites(soon.writes, []);
    expect(r.requeueAfterMs).toBe(4000);
    const later = setup(changed(5000));
    const r2 = await syncFederatedObject('web', 'test', fed, later.ctx);
    expectWrites(later.writes, ['status']);
    expect(r2.requeueAfterMs).toBeUndefined();
    expect(later.statuses[0]).toMatchObject({ ready: '3/3', readyClusters: '1/1' });
  });

  it('writes a propagation change at once, even inside the interval (the recorded version rides on it)', async () => {
    const f: Fixture = {
      members: { cluster0: {}, cluster1: {} },
      statusMinIntervalMs: 5000,
      lastStatusWriteMsAgo: 10,
    };
    const { ctx, writes } = setup(f);
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, [
      'create cluster0 Deployment test/web',
      'create cluster1 Deployment test/web',
      'status',
    ]);
  });

  it('copies the member’s raw status into remoteStatus when the type config enables status collection', async () => {
    const { ctx, statuses } = setup({
      members: { cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] }, cluster1: {} },
      statusCollection: true,
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expect(statuses[0]?.clusters.map((c) => [c.name, c.remoteStatus])).toEqual([
      [
        'cluster0',
        { availableReplicas: 3, observedGeneration: 1, readyReplicas: 3, replicas: 3, updatedReplicas: 3 },
      ],
      // Created just now: the create's response carried no status.
      ['cluster1', undefined],
    ]);
  });

  it('keeps the last workload report of a cluster that became unreachable, not counted as ready', async () => {
    const f: Fixture = {
      members: {
        cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] },
        cluster1: { objects: [memberCopy(fedDeployment(), rolledOut)] },
      },
    };
    const fed = await afterFirstPass(f, fedDeployment());
    const { ctx, writes, statuses, events } = setup({
      members: {
        cluster0: { objects: [memberCopy(fedDeployment(), rolledOut)] },
        cluster1: { ready: false },
      },
    });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['status']);
    expect(statuses[0]?.clusters[1]).toMatchObject({
      name: 'cluster1',
      status: 'ClusterNotReady',
      workload: { healthy: true },
    });
    expect(statuses[0]).toMatchObject({ ready: '3/6', readyClusters: '1/2' });
    expect(events).toEqual(['Warning ClusterNotReady cluster cluster1: ClusterNotReady']);
  });

  it('records one event per failure and one per recovery, none while the failure lasts', async () => {
    const failing: Fixture = {
      members: { cluster0: {}, cluster1: {} },
      failWrites: { 'create cluster1': { code: 403, reason: 'Forbidden', message: 'denied by policy' } },
    };
    const first = setup(failing);
    await syncFederatedObject('web', 'test', fedDeployment(), first.ctx);
    expect(first.events).toEqual([
      'Warning CreationFailed cluster cluster1: CreationFailed: denied by policy (HTTP 403, Forbidden)',
    ]);
    const fed = { ...fedDeployment(), status: first.statuses.at(-1) as never };
    const still = setup({ ...failing, members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', fed, still.ctx);
    expect(still.events).toEqual([]);
    const fixed = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', fed, fixed.ctx);
    expect(fixed.events).toEqual([
      'Normal ClusterRecovered cluster cluster1: in sync again (was CreationFailed)',
    ]);
  });
});

describe('parseDeleteOptions', () => {
  const fedWith = (value?: string) =>
    fedDeployment({}, value === undefined ? {} : { annotations: { 'kubefed.io/deleteoption': value } });
  it.each([
    [undefined, {}],
    ['', {}],
    ['{"propagationPolicy":"Orphan"}', { propagationPolicy: 'Orphan' }],
    [
      '{"propagationPolicy":"Foreground","gracePeriodSeconds":0}',
      { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 },
    ],
    ['{"preconditions":{"uid":"x"}}', { preconditions: { uid: 'x' } }],
  ])('reads %j', (value, expected) => {
    expect(parseDeleteOptions(fedWith(value))).toEqual(expected);
  });
  it.each(['{nope', '[]', '{"propagationPolicy":"Later"}', '{"gracePeriodSeconds":-1}'])(
    'refuses %j with a clear message',
    (value) => {
      const r = parseDeleteOptions(fedWith(value));
      expect(r).toBeInstanceOf(Error);
      expect((r as Error).message).toContain('kubefed.io/deleteoption');
    },
  );
});

describe('syncFederatedObject: a member that hangs', () => {
  it('reports the hung cluster as soon as it is judged not ready, without delaying the others', async () => {
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: {} } });
    const lost = new AbortController();
    const slow: string[] = [];
    ctx.operationTimeoutMs = 60_000;
    ctx.patienceMs = 20;
    ctx.onSlow = (c) => {
      slow.push(c);
      setTimeout(() => lost.abort(), 20); // the prober's verdict
    };
    ctx.lostSignal = (c) => (c === 'cluster1' ? lost.signal : undefined);
    const create = ctx.memberWriter.create;
    ctx.memberWriter.create = (c, obj) => (c === 'cluster1' ? new Promise(() => undefined) : create(c, obj));
    const started = performance.now();
    const r = await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(slow).toEqual(['cluster1']);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'cluster1', status: 'CreationTimedOut' }),
    );
    expect(r.retry).toBe(true);
  });

  it('gives up on a request at the operation time limit', async () => {
    const { ctx, statuses } = setup({ members: { cluster0: {} } });
    ctx.operationTimeoutMs = 30;
    ctx.memberWriter.create = () => new Promise(() => undefined);
    await syncFederatedObject(
      'web',
      'test',
      fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } }),
      ctx,
    );
    expect(statuses[0]?.clusters[0]).toMatchObject({ name: 'cluster0', status: 'CreationTimedOut' });
  });
});
