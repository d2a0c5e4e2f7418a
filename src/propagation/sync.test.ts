import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MANAGED_LABEL, SYNC_FINALIZER } from '../api/constants.ts';
import { type FederatedObject, type MemberView, type SyncContext, syncFederatedObject } from './sync.ts';

// Seed member caches, call the reconciler once, assert the exact writes it made.

type Store = Map<string, KubernetesObject>;
const keyOf = (name: string, ns?: string) => (ns ? `${ns}/${name}` : name);

interface Fixture {
  members: Record<
    string,
    {
      ready?: boolean;
      labels?: Record<string, string>;
      objects?: KubernetesObject[];
      unmanaged?: KubernetesObject[];
      isHost?: boolean;
    }
  >;
  adoptResources?: boolean;
  namespaceClusters?: Record<string, string[]>;
  failWrites?: Record<string, { code: number; reason: string; message: string }>;
}

function setup(f: Fixture) {
  const writes: string[] = [];
  const managed = new Map<string, Store>();
  const unmanaged = new Map<string, Store>();
  const statuses: unknown[] = [];
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
    isHost: m.isHost ?? false,
    synced: true,
    cached: (n, ns) => managed.get(name)?.get(keyOf(n, ns)),
  }));
  const apiError = (e: { code: number; reason: string; message: string }) =>
    Object.assign(new Error(e.message), {
      code: e.code,
      body: JSON.stringify({ reason: e.reason, message: e.message }),
    });
  const describeObj = (o: KubernetesObject) => `${o.kind} ${keyOf(o.metadata!.name!, o.metadata?.namespace)}`;
  const ctx: SyncContext = {
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
    members,
    adoptResources: f.adoptResources ?? true,
    operationTimeoutMs: 1000,
    namespaceClusters: (ns) => (f.namespaceClusters ?? { test: Object.keys(f.members) })[ns],
    now: () => new Date('2026-01-01T00:00:00Z'),
    memberWriter: {
      async create(c, obj) {
        const fail = f.failWrites?.[`create ${c}`];
        if (fail) throw apiError(fail);
        const k = keyOf(obj.metadata!.name!, obj.metadata?.namespace);
        if (unmanaged.get(c)?.has(k))
          throw apiError({ code: 409, reason: 'AlreadyExists', message: 'exists' });
        writes.push(`create ${c} ${describeObj(obj)}`);
        return obj;
      },
      async replace(c, obj) {
        writes.push(`update ${c} ${describeObj(obj)}`);
        return obj;
      },
      async delete(c, obj) {
        writes.push(`delete ${c} ${describeObj(obj)}`);
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
    statuses: statuses as Array<{
      conditions: Array<{ type: string; status: string; reason?: string }>;
      clusters: Array<{ name: string; status?: string }>;
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
  metadata: { name: 'web', namespace: 'test', generation: 2, finalizers: [SYNC_FINALIZER], ...meta },
  spec: {
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } },
    },
    placement: { clusters: [{ name: 'cluster0' }, { name: 'cluster1' }] },
    ...over,
  },
});

/** A member copy as the API server would return it: desired plus server-filled fields. */
const memberCopy = (replicas = 3, image = 'nginx'): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'test',
      resourceVersion: '7',
      uid: 'u1',
      generation: 1,
      labels: { app: 'web', [MANAGED_LABEL]: 'true' },
    },
    spec: {
      replicas,
      progressDeadlineSeconds: 600,
      template: {
        spec: { containers: [{ name: 'nginx', image, imagePullPolicy: 'Always' }], restartPolicy: 'Always' },
      },
    },
    status: { replicas },
  }) as KubernetesObject;

/** Member writes run concurrently, so compare them as sets (sorted); the tests that care about order check it directly. */
const expectWrites = (actual: string[], expected: string[]) =>
  expect([...actual].sort()).toEqual([...expected].sort());

describe('syncFederatedObject', () => {
  it('creates the object in every placed cluster and reports Propagation True', async () => {
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: {}, cluster2: {} } });
    const r = await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, [
      'create cluster0 Deployment test/web',
      'create cluster1 Deployment test/web',
      'status',
    ]);
    expect(r.retry).toBe(false);
    expect(statuses[0]?.conditions[0]).toMatchObject({ type: 'Propagation', status: 'True' });
  });

  it('sends no write when every member already matches (steady state)', async () => {
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    });
    const first = await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expect(first.writes).toBe(1); // the first status write
    const fed = fedDeployment();
    const {
      ctx: ctx2,
      writes: writes2,
      statuses,
    } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } } });
    await syncFederatedObject('web', 'test', fed, ctx2);
    fed.status = statuses[0] as never;
    const { ctx: ctx3, writes: writes3 } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    });
    const steady = await syncFederatedObject('web', 'test', fed, ctx3);
    expectWrites(writes, ['status']);
    expectWrites(writes2, ['status']);
    expectWrites(writes3, []);
    expect(steady.writes).toBe(0);
  });

  it('applies per-cluster overrides and updates a drifted member', async () => {
    const fed = fedDeployment({
      overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path: '/spec/replicas', value: 5 }] }],
    });
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy(3, 'httpd')] }, cluster1: { objects: [memberCopy(3)] } },
    });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, [
      'update cluster0 Deployment test/web',
      'update cluster1 Deployment test/web',
      'status',
    ]);
  });

  it('deletes the object from a cluster removed from placement', async () => {
    const fed = fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } });
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: { objects: [memberCopy()] } },
    });
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['delete cluster1 Deployment test/web', 'status']);
    expect(r.retry).toBe(true); // waits for the removal to be observed
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
    const existing = memberCopy();
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
    const existing = memberCopy();
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
    const existing = memberCopy(1, 'mine');
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

  it('places nothing and reports NamespaceNotFederated when the namespace is not federated', async () => {
    const { ctx, writes, statuses } = setup({
      members: { cluster0: { objects: [memberCopy()] }, cluster1: {} },
      namespaceClusters: {},
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['delete cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.conditions[0]).toMatchObject({ status: 'False', reason: 'NamespaceNotFederated' });
  });

  it('places only in the intersection with the FederatedNamespace clusters', async () => {
    const { ctx, writes } = setup({
      members: { cluster0: {}, cluster1: {} },
      namespaceClusters: { test: ['cluster1'] },
    });
    await syncFederatedObject('web', 'test', fedDeployment(), ctx);
    expectWrites(writes, ['create cluster1 Deployment test/web', 'status']);
  });

  it('refuses an override of /metadata/name for that cluster only, with no retry', async () => {
    const fed = fedDeployment({
      overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path: '/metadata/name', value: 'x' }] }],
    });
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: {} } });
    const r = await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(r.retry).toBe(false);
    expect(statuses[0]?.conditions[0]?.status).toBe('False');
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({
        name: 'cluster1',
        status: 'ApplyOverridesFailed',
        message: expect.stringContaining('/metadata/name'),
      }),
    );
  });

  it('fails a cluster listed twice in overrides and still propagates to the others', async () => {
    const fed = fedDeployment({
      overrides: [
        { clusterName: 'cluster1', clusterOverrides: [{ path: '/spec/replicas', value: 1 }] },
        { clusterName: 'cluster1', clusterOverrides: [{ path: '/spec/replicas', value: 2 }] },
      ],
    });
    const { ctx, writes, statuses } = setup({ members: { cluster0: {}, cluster1: {} } });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({
        name: 'cluster1',
        status: 'ApplyOverridesFailed',
        message: expect.stringContaining('twice'),
      }),
    );
  });

  it('keeps the managed label even when an override replaces all labels', async () => {
    const fed = fedDeployment({
      overrides: [
        { clusterName: 'cluster0', clusterOverrides: [{ path: '/metadata/labels', value: { team: 'a' } }] },
      ],
    });
    const created: KubernetesObject[] = [];
    const { ctx } = setup({ members: { cluster0: {} } });
    const create = ctx.memberWriter.create;
    ctx.memberWriter.create = async (c, obj) => {
      created.push(obj);
      return create(c, obj);
    };
    await syncFederatedObject('web', 'test', fed, ctx);
    expect(created[0]?.metadata?.labels).toEqual({ team: 'a', [MANAGED_LABEL]: 'true' });
  });

  it('reports a placement naming an unknown cluster as ClusterNotFound', async () => {
    const fed = fedDeployment({ placement: { clusters: [{ name: 'cluster0' }, { name: 'nope' }] } });
    const { ctx, writes, statuses } = setup({ members: { cluster0: {} } });
    await syncFederatedObject('web', 'test', fed, ctx);
    expectWrites(writes, ['create cluster0 Deployment test/web', 'status']);
    expect(statuses[0]?.clusters).toContainEqual(
      expect.objectContaining({ name: 'nope', status: 'ClusterNotFound' }),
    );
  });

  it('adds the finalizer before propagating', async () => {
    const { ctx, writes } = setup({ members: { cluster0: {} } });
    await syncFederatedObject(
      'web',
      'test',
      fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } }, { finalizers: [] }),
      ctx,
    );
    expect(writes[0]).toBe(`finalizers ${SYNC_FINALIZER}`);
  });

  it('fails the reconcile (so it is retried) when the finalizer cannot be written', async () => {
    const { ctx } = setup({ members: { cluster0: {} } });
    ctx.hostWriter.setFinalizers = async () => {
      throw Object.assign(new Error('conflict'), {
        code: 409,
        body: JSON.stringify({ reason: 'Conflict', message: 'conflict' }),
      });
    };
    await expect(
      syncFederatedObject(
        'web',
        'test',
        fedDeployment({ placement: { clusters: [{ name: 'cluster0' }] } }, { finalizers: [] }),
        ctx,
      ),
    ).rejects.toThrow('conflict');
  });

  it('on deletion removes member objects, then the finalizer once they are gone', async () => {
    const deleting = fedDeployment({}, { deletionTimestamp: new Date() });
    const { ctx, writes } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    const r = await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['delete cluster0 Deployment test/web', 'status']);
    expect(r.retry).toBe(true);
    const {
      ctx: after,
      writes: writesAfter,
      finalizers,
    } = setup({ members: { cluster0: {}, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, after);
    expectWrites(writesAfter, ['finalizers -']);
    expect(finalizers()).toEqual([]);
  });

  it('on orphaning deletion removes the managed label and keeps member objects', async () => {
    const deleting = fedDeployment(
      {},
      { deletionTimestamp: new Date(), annotations: { 'kubefed.io/orphan': 'true' } },
    );
    const { ctx, writes } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['update cluster0 Deployment test/web', 'finalizers -']);
  });

  it('does not let an unready cluster block deletion', async () => {
    const deleting = fedDeployment({}, { deletionTimestamp: new Date() });
    const { ctx, writes } = setup({
      members: { cluster0: { objects: [memberCopy()], ready: false }, cluster1: {} },
    });
    const r = await syncFederatedObject('web', 'test', deleting, ctx);
    expectWrites(writes, ['finalizers -']);
    expect(r.retry).toBe(false);
  });

  it('removes a managed stray whose federated object no longer exists', async () => {
    const { ctx, writes } = setup({ members: { cluster0: { objects: [memberCopy()] }, cluster1: {} } });
    await syncFederatedObject('web', 'test', undefined, ctx);
    expectWrites(writes, ['delete cluster0 Deployment test/web']);
  });

  it('never deletes a namespace in the host cluster, only unlabels it', async () => {
    const ns: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'test', labels: { [MANAGED_LABEL]: 'true' } },
    };
    const { ctx, writes } = setup({ members: { cluster0: { objects: [ns], isHost: true } } });
    ctx.target = { apiVersion: 'v1', kind: 'Namespace', namespaced: false };
    await syncFederatedObject('test', undefined, undefined, ctx);
    expectWrites(writes, ['update cluster0 Namespace test']);
  });
});
