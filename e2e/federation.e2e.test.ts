import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerProcess, fedctl, fedctlOk } from '../testbed/harness/fedctl.ts';
import { type Federation, startFederation } from '../testbed/harness/federation.ts';
import { apply, mergePatch, read, readManifests, remove } from '../testbed/harness/kube.ts';
import { waitFor } from '../testbed/harness/wait.ts';

// The federation core on three real local clusters: cluster0 is host and member, cluster1 and
// cluster2 are members. The controller runs as the real CLI (`fedctl controller`) in a child process.

const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'] as const;
const TYPES = 'types.kubefed.io/v1beta1';
let fed: Federation;
let kubeconfig: string;
let host: KubernetesObjectApi;
let member: Record<string, KubernetesObjectApi>;
let failed = false;

const managed = (o: KubernetesObject | undefined) => o?.metadata?.labels?.['kubefed.io/managed'];

beforeAll(async () => {
  fed = await startFederation({ name: 'federation', controllerArgs: ['--resync', '30'] });
  ({ kubeconfig, host, api: member } = fed);
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  await fed?.stop(failed);
}, 300_000);

async function federatedStatus(kind: string, name: string, namespace?: string) {
  const obj = await read<
    KubernetesObject & {
      status?: {
        conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
        clusters?: Array<{ name: string; status?: string; message?: string }>;
      };
    }
  >(host, TYPES, kind, name, namespace);
  return obj?.status;
}

const propagated = (s: Awaited<ReturnType<typeof federatedStatus>>) =>
  s?.conditions?.some((c) => c.type === 'Propagation' && c.status === 'True');

describe('the KubeFed walkthrough', () => {
  it('propagates the example verbatim, with cluster1 overridden', async () => {
    const dir = join(import.meta.dirname, '..', 'examples', 'walkthrough');
    for (const f of ['namespace.yaml', 'federatednamespace.yaml', 'federateddeployment.yaml'])
      for (const o of readManifests(join(dir, f))) await apply(host, o);
    const d0 = await waitFor('Deployment test/test in cluster0', () =>
      read<
        KubernetesObject & {
          spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
        }
      >(member.cluster0!, 'apps/v1', 'Deployment', 'test', 'test'),
    );
    const d1 = await waitFor('Deployment test/test in cluster1', () =>
      read<
        KubernetesObject & {
          spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
        }
      >(member.cluster1!, 'apps/v1', 'Deployment', 'test', 'test'),
    );
    expect(d0.spec.replicas).toBe(3);
    expect(d0.spec.template.spec.containers[0]?.image).toBe('nginx');
    expect(d1.spec.replicas).toBe(5);
    expect(d1.spec.template.spec.containers[0]?.image).toBe('nginx:1.17.0-alpine');
    expect(d1.metadata?.annotations?.foo).toBe('bar');
    expect(managed(d0)).toBe('true');
    expect(managed(d1)).toBe('true');
    // cluster2 is not in the FederatedNamespace's placement: neither namespace nor deployment.
    expect(await read(member.cluster2!, 'v1', 'Namespace', 'test')).toBeUndefined();
    // kwok runs the pods: the member Deployments become Available with ready replicas.
    await waitFor(
      'cluster1 Deployment Available with 5 ready replicas',
      async () => {
        const d = await read<KubernetesObject & { status?: { readyReplicas?: number } }>(
          member.cluster1!,
          'apps/v1',
          'Deployment',
          'test',
          'test',
        );
        return d?.status?.readyReplicas === 5;
      },
      { timeoutMs: 120_000 },
    );
    await waitFor('Propagation True', async () =>
      propagated(await federatedStatus('FederatedDeployment', 'test', 'test')),
    );
    const cli = await fedctlOk(
      ['status', 'FederatedDeployment', 'test', '-n', 'test', '--host-cluster-context', 'cluster0'],
      { kubeconfig },
    );
    expect(cli.stdout).toMatch(/cluster0\s+OK/);
    expect(cli.stdout).toMatch(/cluster1\s+OK/);
  });
});

/** One entry per default type: a template and how to check a member copy carries it. */
const KINDS: Array<{
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  template: Record<string, unknown>;
}> = [
  { kind: 'ConfigMap', apiVersion: 'v1', namespaced: true, template: { data: { greeting: 'hello' } } },
  {
    kind: 'Secret',
    apiVersion: 'v1',
    namespaced: true,
    template: { type: 'Opaque', data: { token: Buffer.from('s3cret').toString('base64') } },
  },
  { kind: 'ServiceAccount', apiVersion: 'v1', namespaced: true, template: {} },
  {
    kind: 'Service',
    apiVersion: 'v1',
    namespaced: true,
    template: { spec: { selector: { app: 'crud' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
  },
  {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    namespaced: true,
    template: {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'crud' } },
        template: {
          metadata: { labels: { app: 'crud' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    },
  },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    namespaced: true,
    template: {
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'crud-rs' } },
        template: {
          metadata: { labels: { app: 'crud-rs' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    },
  },
  {
    kind: 'Job',
    apiVersion: 'batch/v1',
    namespaced: true,
    template: {
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    },
  },
  {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    namespaced: true,
    template: {
      spec: {
        rules: [
          {
            host: 'crud.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'crud', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
  },
  {
    kind: 'ClusterRole',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    namespaced: false,
    template: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  },
];

const fedObject = (
  k: (typeof KINDS)[number],
  name: string,
  clusters: string[],
  extra: Record<string, unknown> = {},
): KubernetesObject =>
  ({
    apiVersion: TYPES,
    kind: `Federated${k.kind}`,
    metadata: { name, ...(k.namespaced ? { namespace: 'crud' } : {}) },
    spec: {
      template: structuredClone(k.template),
      placement: { clusters: clusters.map((name) => ({ name })) },
      ...extra,
    },
  }) as KubernetesObject;

const memberCopy = (k: (typeof KINDS)[number], cluster: string, name: string) =>
  read(member[cluster]!, k.apiVersion, k.kind, name, k.namespaced ? 'crud' : undefined);

describe('every default type', () => {
  beforeAll(async () => {
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crud' } });
    await apply(host, {
      apiVersion: TYPES,
      kind: 'FederatedNamespace',
      metadata: { name: 'crud', namespace: 'crud' },
      spec: { placement: { clusterSelector: {} } },
    } as KubernetesObject);
    for (const c of CLUSTERS)
      await waitFor(`namespace crud in ${c}`, () => read(member[c]!, 'v1', 'Namespace', 'crud'));
  });

  it.each(KINDS)(
    '$kind: create, template update, override, placement change, drift, delete, orphan delete',
    async (k) => {
      const name = `crud-${k.kind.toLowerCase()}`;
      const fed = fedObject(k, name, ['cluster0', 'cluster1']);
      await apply(host, fed);
      for (const c of ['cluster0', 'cluster1'])
        await waitFor(`${k.kind} in ${c}`, async () => managed(await memberCopy(k, c, name)) === 'true');
      expect(await memberCopy(k, 'cluster2', name)).toBeUndefined();

      // Template update: a label added to the template reaches every member.
      const v2 = structuredClone(fed) as KubernetesObject & {
        spec: { template: { metadata?: { labels?: Record<string, string> } }; overrides?: unknown };
      };
      v2.spec.template.metadata = { labels: { rev: '2' } };
      await apply(host, v2);
      for (const c of ['cluster0', 'cluster1'])
        await waitFor(
          `${k.kind} rev 2 in ${c}`,
          async () => (await memberCopy(k, c, name))?.metadata?.labels?.rev === '2',
        );

      // Override for cluster1 only.
      v2.spec.overrides = [
        {
          clusterName: 'cluster1',
          clusterOverrides: [{ path: '/metadata/annotations', op: 'add', value: { tier: 'gold' } }],
        },
      ];
      await apply(host, v2);
      await waitFor(
        `${k.kind} override in cluster1`,
        async () => (await memberCopy(k, 'cluster1', name))?.metadata?.annotations?.tier === 'gold',
      );
      expect((await memberCopy(k, 'cluster0', name))?.metadata?.annotations?.tier).toBeUndefined();

      // Placement change: cluster0 loses it, cluster2 gets it.
      (v2.spec as Record<string, unknown>).placement = {
        clusters: [{ name: 'cluster1' }, { name: 'cluster2' }],
      };
      await apply(host, v2);
      await waitFor(
        `${k.kind} removed from cluster0`,
        async () => (await memberCopy(k, 'cluster0', name)) === undefined,
      );
      await waitFor(
        `${k.kind} in cluster2`,
        async () => (await memberCopy(k, 'cluster2', name))?.metadata?.labels?.rev === '2',
      );

      // Drift: an edit in a member is reverted, a deletion in a member is undone.
      const drifted = (await memberCopy(k, 'cluster1', name))!;
      await mergePatch(member.cluster1!, drifted, { metadata: { labels: { rev: 'drift' } } });
      await waitFor(
        `${k.kind} drift reverted in cluster1`,
        async () => (await memberCopy(k, 'cluster1', name))?.metadata?.labels?.rev === '2',
      );
      await remove(member.cluster2!, k.apiVersion, k.kind, name, k.namespaced ? 'crud' : undefined);
      await waitFor(
        `${k.kind} recreated in cluster2`,
        async () => managed(await memberCopy(k, 'cluster2', name)) === 'true',
      );
      await waitFor(`${k.kind} Propagation True`, async () =>
        propagated(await federatedStatus(`Federated${k.kind}`, name, k.namespaced ? 'crud' : undefined)),
      );

      // Delete: gone from every member, then the federated object itself is gone (finalizer dropped).
      await remove(host, TYPES, `Federated${k.kind}`, name, k.namespaced ? 'crud' : undefined);
      for (const c of CLUSTERS)
        await waitFor(
          `${k.kind} deleted from ${c}`,
          async () =>
            (await memberCopy(k, c, name)) === undefined ||
            (await memberCopy(k, c, name))?.metadata?.deletionTimestamp !== undefined,
        );
      await waitFor(
        `Federated${k.kind} gone`,
        async () =>
          (await read(host, TYPES, `Federated${k.kind}`, name, k.namespaced ? 'crud' : undefined)) ===
          undefined,
      );

      // Orphaning delete: member objects stay, without the managed label.
      const orphanName = `${name}-orphan`;
      await apply(host, fedObject(k, orphanName, ['cluster1']));
      await waitFor(
        `${k.kind} orphan candidate in cluster1`,
        async () => managed(await memberCopy(k, 'cluster1', orphanName)) === 'true',
      );
      await fedctlOk(
        [
          'orphaning-deletion',
          'enable',
          `Federated${k.kind}`,
          orphanName,
          ...(k.namespaced ? ['-n', 'crud'] : []),
          '--host-cluster-context',
          'cluster0',
        ],
        { kubeconfig },
      );
      await remove(host, TYPES, `Federated${k.kind}`, orphanName, k.namespaced ? 'crud' : undefined);
      await waitFor(
        `Federated${k.kind} ${orphanName} gone`,
        async () =>
          (await read(host, TYPES, `Federated${k.kind}`, orphanName, k.namespaced ? 'crud' : undefined)) ===
          undefined,
      );
      const kept = await memberCopy(k, 'cluster1', orphanName);
      expect(kept).toBeDefined();
      expect(managed(kept)).toBeUndefined();
    },
  );
});

describe('enable, federate, disable', () => {
  it('enables a built-in type and propagates it', async () => {
    const r = await fedctlOk(['enable', 'statefulsets.apps', '--host-cluster-context', 'cluster0'], {
      kubeconfig,
    });
    expect(r.stdout).toMatch(/federatedstatefulsets\.types\.kubefed\.io\s+(created|unchanged)/);
    const fed = {
      apiVersion: TYPES,
      kind: 'FederatedStatefulSet',
      metadata: { name: 'db', namespace: 'crud' },
      spec: {
        template: {
          spec: {
            serviceName: 'db',
            replicas: 1,
            selector: { matchLabels: { app: 'db' } },
            template: {
              metadata: { labels: { app: 'db' } },
              spec: { containers: [{ name: 'c', image: 'postgres' }] },
            },
          },
        },
        placement: { clusters: [{ name: 'cluster1' }] },
      },
    } as KubernetesObject;
    await waitFor('the FederatedStatefulSet CRD to be served', async () => {
      await apply(host, fed);
      return true;
    });
    await waitFor(
      'StatefulSet db in cluster1',
      async () => managed(await read(member.cluster1!, 'apps/v1', 'StatefulSet', 'db', 'crud')) === 'true',
      { timeoutMs: 60_000 },
    );
  });

  it('enables a custom resource type, validating templates with its schema', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
              },
            },
          },
        ],
      },
    } as KubernetesObject;
    for (const c of CLUSTERS) await apply(member[c]!, crd);
    await waitFor(
      'Widget served in the host',
      async () =>
        (
          await fedctl(['enable', 'widgets.example.com', '--host-cluster-context', 'cluster0'], {
            kubeconfig,
          })
        ).exitCode === 0,
      { timeoutMs: 30_000 },
    );
    const widget = (size: unknown) =>
      ({
        apiVersion: TYPES,
        kind: 'FederatedWidget',
        metadata: { name: 'w', namespace: 'crud' },
        spec: { template: { spec: { size } }, placement: { clusters: [{ name: 'cluster2' }] } },
      }) as KubernetesObject;
    // The target's schema now validates the template at the API server.
    await waitFor(
      'the FederatedWidget CRD to be served',
      async () => {
        try {
          await apply(host, widget('big'));
          return false;
        } catch (e) {
          return /size|integer/.test(String((e as Error).message ?? e));
        }
      },
      { timeoutMs: 30_000 },
    );
    await apply(host, widget(3));
    const w = await waitFor(
      'Widget w in cluster2',
      () =>
        read<KubernetesObject & { spec?: { size?: number } }>(
          member.cluster2!,
          'example.com/v1',
          'Widget',
          'w',
          'crud',
        ),
      { timeoutMs: 60_000 },
    );
    expect(w.spec?.size).toBe(3);
  });

  it('federates an existing object and disables a type with its CRD', async () => {
    await apply(host, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'existing', namespace: 'crud' },
      data: { from: 'host' },
    } as KubernetesObject);
    const printed = await fedctlOk(
      [
        'federate',
        'configmaps',
        'existing',
        '-n',
        'crud',
        '-o',
        'yaml',
        '--host-cluster-context',
        'cluster0',
      ],
      { kubeconfig },
    );
    expect(printed.stdout).toContain('kind: FederatedConfigMap');
    await fedctlOk(
      ['federate', 'configmaps', 'existing', '-n', 'crud', '--host-cluster-context', 'cluster0'],
      { kubeconfig },
    );
    for (const c of CLUSTERS) {
      await waitFor(`ConfigMap existing managed in ${c}`, async () => {
        const cm = await read<KubernetesObject & { data?: Record<string, string> }>(
          member[c]!,
          'v1',
          'ConfigMap',
          'existing',
          'crud',
        );
        return managed(cm) === 'true' && cm?.data?.from === 'host';
      });
    }
    // --delete-crd refuses while a FederatedWidget exists (kubefedctl did too): delete it first.
    const refused = await fedctl(
      ['disable', 'widgets.example.com', '--delete-crd', '--host-cluster-context', 'cluster0'],
      { kubeconfig },
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('1 FederatedWidget object(s) exist (1 in namespace crud)');
    await remove(host, TYPES, 'FederatedWidget', 'w', 'crud');
    await waitFor(
      'FederatedWidget w and its member copy gone',
      async () =>
        (await read(host, TYPES, 'FederatedWidget', 'w', 'crud')) === undefined &&
        (await read(member.cluster2!, 'example.com/v1', 'Widget', 'w', 'crud')) === undefined,
      { timeoutMs: 60_000 },
    );
    const off = await fedctlOk(
      ['disable', 'widgets.example.com', '--delete-crd', '--host-cluster-context', 'cluster0'],
      { kubeconfig },
    );
    expect(off.stdout).toContain('federatedwidgets.types.kubefed.io deleted');
    await waitFor(
      'FederatedWidget CRD gone',
      async () =>
        (await read(
          host,
          'apiextensions.k8s.io/v1',
          'CustomResourceDefinition',
          'federatedwidgets.types.kubefed.io',
        )) === undefined,
    );
  });
});

describe('bad input', () => {
  const cm = KINDS[0]!;

  it.each(['/metadata/name', '/metadata/namespace', '/metadata/generateName', '/kind'])(
    'refuses an override of %s for that cluster, with a reason, and still propagates elsewhere',
    async (path) => {
      const name = `bad-${path.replaceAll('/', '-').toLowerCase().replace(/^-/, '')}`;
      await apply(
        host,
        fedObject(cm, name, ['cluster0', 'cluster1'], {
          overrides: [{ clusterName: 'cluster1', clusterOverrides: [{ path, value: 'x' }] }],
        }),
      );
      const entry = await waitFor(`ApplyOverridesFailed for ${path}`, async () =>
        (await federatedStatus('FederatedConfigMap', name, 'crud'))?.clusters?.find(
          (c) => c.name === 'cluster1' && c.status === 'ApplyOverridesFailed',
        ),
      );
      expect(entry.message).toContain(path);
      const condition = (await federatedStatus('FederatedConfigMap', name, 'crud'))?.conditions?.find(
        (c) => c.type === 'Propagation',
      );
      expect(condition?.status).toBe('False');
      await waitFor(`${name} in cluster0`, () => memberCopy(cm, 'cluster0', name));
      expect(await memberCopy(cm, 'cluster1', name)).toBeUndefined();
    },
  );

  it('has the API server reject an unknown override op with a readable message', async () => {
    const bad = fedObject(cm, 'bad-op', ['cluster0'], {
      overrides: [
        { clusterName: 'cluster0', clusterOverrides: [{ op: 'frobnicate', path: '/data/x', value: 'y' }] },
      ],
    });
    await expect(apply(host, bad)).rejects.toThrow(/frobnicate|op/);
  });

  it('reports a placement naming an unknown cluster and propagates to the known ones', async () => {
    await apply(host, fedObject(cm, 'unknown-cluster', ['cluster0', 'nope']));
    await waitFor('the ConfigMap in cluster0', () => memberCopy(cm, 'cluster0', 'unknown-cluster'));
    const st = await waitFor('a status entry for cluster nope', async () =>
      (await federatedStatus('FederatedConfigMap', 'unknown-cluster', 'crud'))?.clusters?.find(
        (c) => c.name === 'nope',
      ),
    );
    expect(st.status).toBeTruthy();
  });

  it('reports NamespaceNotFederated for an object in a namespace without a FederatedNamespace', async () => {
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lonely' } });
    await apply(host, {
      ...fedObject(cm, 'lonely', ['cluster0', 'cluster1']),
      metadata: { name: 'lonely', namespace: 'lonely' },
    } as KubernetesObject);
    const c = await waitFor('NamespaceNotFederated', async () =>
      (await federatedStatus('FederatedConfigMap', 'lonely', 'lonely'))?.conditions?.find(
        (x) => x.reason === 'NamespaceNotFederated',
      ),
    );
    expect(c.status).toBe('False');
    expect(await read(member.cluster1!, 'v1', 'ConfigMap', 'lonely', 'lonely')).toBeUndefined();
  });

  it('keeps the other clusters converging while one API server is down, and catches up when it returns', async () => {
    await fed.tb.stopApiServer('cluster2');
    try {
      await waitFor(
        'cluster2 not Ready',
        async () => {
          const r = await fedctl(
            ['get', 'clusters', 'cluster2', '--host-cluster-context', 'cluster0', '-o', 'json'],
            { kubeconfig },
          );
          return (
            r.stdout.includes('"ClusterNotReady"') ||
            /"type":\s*"Ready",\s*"status":\s*"False"/.test(r.stdout)
          );
        },
        { timeoutMs: 60_000 },
      );
      await apply(host, fedObject(cm, 'during-outage', ['cluster0', 'cluster1', 'cluster2']));
      for (const c of ['cluster0', 'cluster1'])
        await waitFor(`during-outage in ${c}`, () => memberCopy(cm, c, 'during-outage'));
      const st = await waitFor('cluster2 reported ClusterNotReady', async () =>
        (await federatedStatus('FederatedConfigMap', 'during-outage', 'crud'))?.clusters?.find(
          (c) => c.name === 'cluster2' && c.status === 'ClusterNotReady',
        ),
      );
      expect(st).toBeDefined();
    } finally {
      await fed.tb.startApiServer('cluster2');
    }
    await waitFor(
      'during-outage in cluster2 after recovery',
      () => memberCopy(cm, 'cluster2', 'during-outage'),
      { timeoutMs: 120_000 },
    );
    await waitFor(
      'Propagation True after recovery',
      async () => propagated(await federatedStatus('FederatedConfigMap', 'during-outage', 'crud')),
      { timeoutMs: 60_000 },
    );
  });
});

describe('steady state', () => {
  it('sends no writes while nothing changes', async () => {
    const port = await waitFor(
      'the metrics address in the controller log',
      () => fed.controller.tail(5000).match(/serving \/healthz[^\n]*127\.0\.0\.1:(\d+)/)?.[1],
    );
    const writes = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('fedctl_member_writes_total'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    };
    // Let every earlier test's objects settle, then watch a quiet window that includes a resync (30 s).
    await waitFor(
      'a quiet controller',
      async () => {
        const a = await writes();
        await new Promise((r) => setTimeout(r, 3000));
        return a === (await writes());
      },
      { timeoutMs: 120_000 },
    );
    const before = await writes();
    await new Promise((r) => setTimeout(r, 35_000));
    expect((await writes()) - before).toBe(0);
  });
});

describe('leader election', () => {
  it('runs one controller at a time and fails over when the leader stops', async () => {
    const standby = new ControllerProcess(join(fed.tb.stateDir, 'standby.log'));
    standby.start(['--host-cluster-context', 'cluster0', '--metrics-port', '0'], kubeconfig);
    try {
      await waitFor('the standby to wait for the lease', () =>
        /waiting to become leader/.test(standby.tail(50)),
      );
      await new Promise((r) => setTimeout(r, 3000));
      expect(standby.tail(200)).not.toMatch(/became leader/);
      // The leader stops and releases the lease: the standby takes over and propagation goes on.
      await fed.controller.stop();
      await waitFor('the standby to lead', () => /became leader/.test(standby.tail(200)), {
        timeoutMs: 30_000,
      });
      await apply(host, {
        apiVersion: TYPES,
        kind: 'FederatedConfigMap',
        metadata: { name: 'after-failover', namespace: 'crud' },
        spec: { template: { data: { ok: 'yes' } }, placement: { clusters: [{ name: 'cluster1' }] } },
      } as KubernetesObject);
      await waitFor(
        'after-failover in cluster1',
        () => read(member.cluster1!, 'v1', 'ConfigMap', 'after-failover', 'crud'),
        { timeoutMs: 60_000 },
      );
    } finally {
      if (failed) process.stderr.write(`\n--- standby controller log ---\n${standby.tail(80)}\n`);
      await standby.stop();
    }
  });
});
