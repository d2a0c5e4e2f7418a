import { isDeepStrictEqual } from 'node:util';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchController, signalController, waitControllerReady } from '../testbed/harness/controllers.ts';
import {
  applyFederated,
  federated,
  federateNamespace,
  isPropagated,
  readFederated,
} from '../testbed/harness/federated.ts';
import { type Federation, startFederation } from '../testbed/harness/federation.ts';
import { clusterApi, read } from '../testbed/harness/kube.ts';
import { describeWrites, MemberWrites, writesBetween } from '../testbed/harness/metrics.ts';
import { report, timed } from '../testbed/harness/timing.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';
import { recordEvents } from '../testbed/harness/watch.ts';

// Members end up exactly as declared (issue #8): what a template gains reaches every member, what it
// drops leaves every member, a hand edit is undone, and what the member's own cluster owns is kept.
// Every change is timed and printed; the limit is a generous 30 s.

const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'] as const;
const NS = 'exact';
const REVISION = 'deployment.kubernetes.io/revision';

let fed: Federation;
let host: KubernetesObjectApi;
let member: Record<string, KubernetesObjectApi>;
let failed = false;

beforeAll(async () => {
  fed = await startFederation({ name: 'exact' });
  ({ host, api: member } = fed);
  await federateNamespace(host, member, NS, CLUSTERS);
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  await fed?.stop(failed);
}, 300_000);

// biome-ignore lint/suspicious/noExplicitAny: templates and member objects are free-form JSON here
type Obj = Record<string, any>;

const podSpec = (o: Obj) => o.spec.template.spec;
const container = (o: Obj) => podSpec(o).containers[0];
const emptyToUndefined = (v: unknown) => (Array.isArray(v) && v.length === 0 ? undefined : v);

const deployment = (app: string, containerExtra: Obj = {}): Obj => ({
  spec: {
    replicas: 1,
    selector: { matchLabels: { app } },
    template: {
      metadata: { labels: { app } },
      spec: { containers: [{ name: 'c', image: 'nginx', ...containerExtra }] },
    },
  },
});

const ROLLING_DEFAULT = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };

interface FieldCase {
  name: string;
  kind: 'Deployment' | 'ConfigMap';
  /** The template without the field. */
  base: (app: string) => Obj;
  /** Adds the field to a template (or, for drift, changes it in a member copy). */
  add: (t: Obj) => void;
  drift: (member: Obj) => void;
  /** The field as a member copy has it. */
  get: (member: Obj) => unknown;
  present: unknown;
  /** What the member shows once the template no longer has the field (API defaults included). */
  absent: unknown;
}

const CASES: FieldCase[] = [
  {
    name: 'label',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, tier: 'gold' } };
    },
    drift: (m) => {
      m.metadata.labels.tier = 'silver';
    },
    get: (m) => m.metadata.labels?.tier,
    present: 'gold',
    absent: undefined,
  },
  {
    name: 'annotation',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, note: 'hello' } };
    },
    drift: (m) => {
      m.metadata.annotations.note = 'changed';
    },
    get: (m) => m.metadata.annotations?.note,
    present: 'hello',
    absent: undefined,
  },
  {
    name: 'ConfigMap data key',
    kind: 'ConfigMap',
    base: () => ({ data: { a: '1' } }),
    add: (t) => {
      t.data.b = '2';
    },
    drift: (m) => {
      m.data.b = 'x';
    },
    get: (m) => m.data,
    present: { a: '1', b: '2' },
    absent: { a: '1' },
  },
  {
    name: 'env var (the only one)',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      container(t).env = [{ name: 'MODE', value: 'fast' }];
    },
    drift: (m) => {
      container(m).env[0].value = 'slow';
    },
    get: (m) => emptyToUndefined(container(m).env),
    present: [{ name: 'MODE', value: 'fast' }],
    absent: undefined,
  },
  {
    name: 'env var (one of several)',
    kind: 'Deployment',
    base: (app) =>
      deployment(app, {
        env: [
          { name: 'A', value: '1' },
          { name: 'C', value: '3' },
        ],
      }),
    add: (t) => {
      container(t).env.splice(1, 0, { name: 'B', value: '2' });
    },
    drift: (m) => {
      container(m).env[1].value = 'two';
    },
    get: (m) => container(m).env,
    present: [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'C', value: '3' },
    ],
    absent: [
      { name: 'A', value: '1' },
      { name: 'C', value: '3' },
    ],
  },
  {
    name: 'container port',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      container(t).ports = [{ name: 'http', containerPort: 8080 }];
    },
    drift: (m) => {
      container(m).ports[0].containerPort = 9090;
    },
    get: (m) => emptyToUndefined(container(m).ports),
    present: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    absent: undefined,
  },
  {
    name: 'toleration',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      podSpec(t).tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'fed', effect: 'NoSchedule' }];
    },
    drift: (m) => {
      podSpec(m).tolerations[0].value = 'other';
    },
    get: (m) => emptyToUndefined(podSpec(m).tolerations),
    present: [{ key: 'dedicated', operator: 'Equal', value: 'fed', effect: 'NoSchedule' }],
    absent: undefined,
  },
  {
    name: 'nodeSelector',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      podSpec(t).nodeSelector = { disk: 'ssd' };
    },
    drift: (m) => {
      podSpec(m).nodeSelector = { disk: 'hdd' };
    },
    get: (m) => podSpec(m).nodeSelector,
    present: { disk: 'ssd' },
    absent: undefined,
  },
  {
    name: 'resources.limits',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      container(t).resources = { limits: { cpu: '250m', memory: '64Mi' } };
    },
    drift: (m) => {
      container(m).resources.limits.cpu = '500m';
    },
    get: (m) => container(m).resources?.limits,
    present: { cpu: '250m', memory: '64Mi' },
    absent: undefined,
  },
  {
    name: 'strategy Recreate',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      t.spec.strategy = { type: 'Recreate' };
    },
    drift: (m) => {
      m.spec.strategy = { type: 'RollingUpdate' };
    },
    get: (m) => m.spec.strategy,
    present: { type: 'Recreate' },
    absent: ROLLING_DEFAULT,
  },
  {
    name: 'paused',
    kind: 'Deployment',
    base: (app) => deployment(app),
    add: (t) => {
      t.spec.paused = true;
    },
    drift: (m) => {
      m.spec.paused = false;
    },
    get: (m) => m.spec.paused ?? false,
    present: true,
    absent: false,
  },
];

const API_VERSION = { Deployment: 'apps/v1', ConfigMap: 'v1', Service: 'v1', Secret: 'v1' } as const;
type Kind = keyof typeof API_VERSION;

const plain = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

const memberCopy = (c: string, kind: Kind, name: string) =>
  read<KubernetesObject & Obj>(member[c]!, API_VERSION[kind], kind, name, NS);

/** Waits until `get` of every listed member's copy equals `want`; prints how long it took. */
async function converge(
  what: string,
  kind: Kind,
  name: string,
  get: (m: Obj) => unknown,
  want: unknown,
  clusters: readonly string[] = CLUSTERS,
) {
  const seen: Record<string, unknown> = {};
  await timed(what, async () => {
    for (const c of clusters) {
      const m = await memberCopy(c, kind, name);
      // client-node returns model instances: compare plain JSON (no prototypes, no undefined keys).
      seen[c] = m ? plain(get(m)) : '(missing)';
    }
    return clusters.every((c) => isDeepStrictEqual(seen[c], want));
  }).catch((e: Error) => {
    throw new Error(
      `${e.message}\nwanted ${JSON.stringify(want)} in ${clusters.join(', ')}; saw ${JSON.stringify(seen)}`,
    );
  });
}

/** A hand edit of a member copy (read, change, PUT, retried on conflicts); returns what the server stored. */
async function editMember(c: string, kind: Kind, name: string, edit: (m: Obj) => void): Promise<Obj> {
  return waitFor(`hand edit of ${kind} ${name} in ${c}`, async () => {
    const m = await memberCopy(c, kind, name);
    if (!m) throw new Error(`${kind} ${name} is missing in ${c}`);
    edit(m);
    return (await member[c]!.replace(m)) as Obj;
  });
}

describe('a field added to, dropped from, and changed against the template', () => {
  it.each(CASES)('$name', async (fc) => {
    const name = `f-${fc.name
      .replace(/[^a-z]+/gi, '-')
      .toLowerCase()
      .replace(/-+$/, '')}`;
    const base = fc.base(name);
    await applyFederated(host, federated(fc.kind, name, NS, base, CLUSTERS));
    await converge(`${fc.name}: base template in every member`, fc.kind, name, fc.get, fc.absent);

    const withField = structuredClone(base);
    fc.add(withField);
    await applyFederated(host, federated(fc.kind, name, NS, withField, CLUSTERS));
    await converge(`${fc.name}: added → present in every member`, fc.kind, name, fc.get, fc.present);

    const stored = await editMember('cluster1', fc.kind, name, fc.drift);
    expect(plain(fc.get(stored)), `${fc.name}: the hand edit took effect in cluster1`).not.toEqual(
      fc.present,
    );
    await converge(`${fc.name}: hand edit in cluster1 → restored`, fc.kind, name, fc.get, fc.present, [
      'cluster1',
    ]);

    await applyFederated(host, federated(fc.kind, name, NS, base, CLUSTERS));
    await converge(`${fc.name}: removed → gone from every member`, fc.kind, name, fc.get, fc.absent);
  });
});

describe('drift outside the template', () => {
  it('removes an env var added by hand to a member Deployment (kubectl set env)', async () => {
    await applyFederated(host, federated('Deployment', 'set-env', NS, deployment('set-env'), CLUSTERS));
    const env = (m: Obj) => emptyToUndefined(container(m).env);
    await converge('set-env in every member', 'Deployment', 'set-env', env, undefined);
    await editMember('cluster1', 'Deployment', 'set-env', (m) => {
      container(m).env = [{ name: 'DEBUG', value: '1' }];
    });
    await converge('hand-added env var removed in cluster1', 'Deployment', 'set-env', env, undefined, [
      'cluster1',
    ]);
  });

  it('removes a label added by hand to a member ConfigMap', async () => {
    await applyFederated(host, federated('ConfigMap', 'hand-label', NS, { data: { a: '1' } }, CLUSTERS));
    const labels = (m: Obj) => m.metadata.labels;
    await converge('hand-label in every member', 'ConfigMap', 'hand-label', labels, {
      'kubefed.io/managed': 'true',
    });
    await editMember('cluster1', 'ConfigMap', 'hand-label', (m) => {
      m.metadata.labels.hand = 'made';
    });
    await converge(
      'hand-added label removed in cluster1',
      'ConfigMap',
      'hand-label',
      labels,
      { 'kubefed.io/managed': 'true' },
      ['cluster1'],
    );
  });
});

describe('what the member cluster owns is kept', () => {
  it('keeps an HPA-style replicas change under retainReplicas across template edits', async () => {
    const t = deployment('retained');
    await applyFederated(
      host,
      federated('Deployment', 'retained', NS, t, CLUSTERS, { spec: { retainReplicas: true } }),
    );
    await converge('retained in every member', 'Deployment', 'retained', (m) => m.spec.replicas, 1);
    const scaled = await editMember('cluster1', 'Deployment', 'retained', (m) => {
      m.spec.replicas = 3;
    });
    expect(scaled.spec.replicas).toBe(3);
    const edited = structuredClone(t);
    edited.metadata = { labels: { rev: '2' } };
    await applyFederated(
      host,
      federated('Deployment', 'retained', NS, edited, CLUSTERS, { spec: { retainReplicas: true } }),
    );
    await converge(
      'template edit in every member',
      'Deployment',
      'retained',
      (m) => m.metadata.labels?.rev,
      '2',
    );
    await sleep(2000);
    expect(
      (await memberCopy('cluster1', 'Deployment', 'retained'))?.spec.replicas,
      'cluster1 keeps 3 replicas',
    ).toBe(3);
    expect((await memberCopy('cluster0', 'Deployment', 'retained'))?.spec.replicas, 'cluster0 keeps 1').toBe(
      1,
    );
  });

  it("keeps a NodePort Service's clusterIP and nodePorts across template edits", async () => {
    const svc = (targetPort: number, labels?: Record<string, string>): Obj => ({
      ...(labels ? { metadata: { labels } } : {}),
      spec: { type: 'NodePort', selector: { app: 'np' }, ports: [{ name: 'http', port: 80, targetPort }] },
    });
    await applyFederated(host, federated('Service', 'np', NS, svc(8080), CLUSTERS));
    const allocated = (m: Obj) => ({
      clusterIP: m.spec.clusterIP,
      nodePorts: m.spec.ports.map((p: Obj) => p.nodePort),
    });
    const before: Record<string, unknown> = {};
    for (const c of CLUSTERS) {
      const m = await waitFor(`Service np in ${c}`, () => memberCopy(c, 'Service', 'np'));
      before[c] = allocated(m);
    }
    await applyFederated(host, federated('Service', 'np', NS, svc(8081, { rev: '2' }), CLUSTERS));
    await converge(
      'targetPort 8081 in every member',
      'Service',
      'np',
      (m) => m.spec.ports[0].targetPort,
      8081,
    );
    for (const c of CLUSTERS)
      expect(allocated((await memberCopy(c, 'Service', 'np'))!), `${c}: clusterIP and nodePorts`).toEqual(
        before[c],
      );
    await converge('label rev=2 in every member', 'Service', 'np', (m) => m.metadata.labels?.rev, '2');
  });

  it("never drops a Deployment's revision annotation when the template changes", async () => {
    const t = deployment('rev');
    await applyFederated(host, federated('Deployment', 'rev', NS, t, CLUSTERS));
    await converge(
      'revision annotation 1 in every member',
      'Deployment',
      'rev',
      (m) => m.metadata.annotations?.[REVISION],
      '1',
    );
    // The members' Deployment controllers re-add the annotation within milliseconds, so watch every
    // version of cluster1's copy rather than poll.
    const current = await memberCopy('cluster1', 'Deployment', 'rev');
    const watch = await recordEvents(
      clusterApi(fed.kubeconfig, 'cluster1').kc,
      `/apis/apps/v1/namespaces/${NS}/deployments`,
      'rev',
      current!.metadata!.resourceVersion!,
    );
    const edited = structuredClone(t);
    edited.metadata = { labels: { rev: '2' } };
    await applyFederated(host, federated('Deployment', 'rev', NS, edited, CLUSTERS));
    await converge('template edit in every member', 'Deployment', 'rev', (m) => m.metadata.labels?.rev, '2');
    await sleep(1000);
    watch.stop();
    const versions = watch.events.map((e) => ({
      type: e.type,
      resourceVersion: e.object.metadata?.resourceVersion,
      revision: e.object.metadata?.annotations?.[REVISION],
    }));
    report(`cluster1 Deployment rev versions during the edit: ${JSON.stringify(versions)}`);
    expect(versions.length, 'the edit reached cluster1').toBeGreaterThan(0);
    expect(versions.filter((v) => v.revision !== '1')).toEqual([]);
  });
});

describe('KubeFed override semantics', () => {
  const overridden = (name: string, template: Obj, clusterOverrides: Obj[], spec: Obj = {}) =>
    federated('Deployment', name, NS, template, CLUSTERS, {
      spec: { ...spec, overrides: [{ clusterName: 'cluster1', clusterOverrides }] },
    });

  it('an override without op sets a key the template lacks (/spec/template/spec/nodeSelector)', async () => {
    await applyFederated(
      host,
      overridden('ov-replace', deployment('ov-replace'), [
        { path: '/spec/template/spec/nodeSelector', value: { disk: 'ssd' } },
      ]),
    );
    await converge(
      'cluster1 nodeSelector set',
      'Deployment',
      'ov-replace',
      (m) => podSpec(m).nodeSelector,
      { disk: 'ssd' },
      ['cluster1'],
    );
    await converge(
      'no nodeSelector elsewhere',
      'Deployment',
      'ov-replace',
      (m) => podSpec(m).nodeSelector,
      undefined,
      ['cluster0', 'cluster2'],
    );
    await waitFor('Propagation True', async () =>
      isPropagated(await readFederated(host, 'FederatedDeployment', 'ov-replace', NS)),
    );
  });

  it('add /metadata/annotations/foo works on a template without annotations', async () => {
    await applyFederated(
      host,
      overridden('ov-add', deployment('ov-add'), [
        { op: 'add', path: '/metadata/annotations/foo', value: 'bar' },
      ]),
    );
    await converge(
      'cluster1 annotation foo=bar',
      'Deployment',
      'ov-add',
      (m) => m.metadata.annotations?.foo,
      'bar',
      ['cluster1'],
    );
    await converge(
      'no annotation foo elsewhere',
      'Deployment',
      'ov-add',
      (m) => m.metadata.annotations?.foo,
      undefined,
      ['cluster0', 'cluster2'],
    );
  });

  it('a /spec/replicas override beats retainReplicas: true', async () => {
    await applyFederated(
      host,
      overridden('ov-replicas', deployment('ov-replicas'), [{ path: '/spec/replicas', value: 4 }], {
        retainReplicas: true,
      }),
    );
    const replicas = (m: Obj) => m.spec.replicas;
    await converge('cluster1 has 4 replicas', 'Deployment', 'ov-replicas', replicas, 4, ['cluster1']);
    await converge('the others have 1', 'Deployment', 'ov-replicas', replicas, 1, ['cluster0', 'cluster2']);
    await editMember('cluster1', 'Deployment', 'ov-replicas', (m) => {
      m.spec.replicas = 2;
    });
    await editMember('cluster0', 'Deployment', 'ov-replicas', (m) => {
      m.spec.replicas = 3;
    });
    await converge('cluster1 back to the override (4)', 'Deployment', 'ov-replicas', replicas, 4, [
      'cluster1',
    ]);
    await sleep(2000);
    expect(
      (await memberCopy('cluster0', 'Deployment', 'ov-replicas'))?.spec.replicas,
      'cluster0 retains 3',
    ).toBe(3);
  });

  it('an override without value sets null (the member has no nodeSelector)', async () => {
    const t = deployment('ov-null');
    podSpec(t).nodeSelector = { disk: 'ssd' };
    await applyFederated(host, overridden('ov-null', t, [{ path: '/spec/template/spec/nodeSelector' }]));
    await converge(
      'cluster1 without nodeSelector',
      'Deployment',
      'ov-null',
      (m) => podSpec(m).nodeSelector,
      undefined,
      ['cluster1'],
    );
    await converge(
      'the others keep it',
      'Deployment',
      'ov-null',
      (m) => podSpec(m).nodeSelector,
      { disk: 'ssd' },
      ['cluster0', 'cluster2'],
    );
  });
});

describe('a Secret whose data the API server re-encodes', () => {
  it('is not rewritten at every resync (--resync 5, 20 s)', async () => {
    // A YAML block (`token: |`) leaves a newline after the base64 text; the server stores it without.
    await applyFederated(
      host,
      federated('Secret', 'newline', NS, { type: 'Opaque', data: { token: 'czNjcmV0\n' } }, CLUSTERS),
    );
    await converge('the Secret in every member', 'Secret', 'newline', (m) => m.data?.token, 'czNjcmV0');
    await signalController(fed.controller, 'SIGTERM');
    fed.controller = launchController(fed, { name: 'resync-5', args: ['--resync', '5'] });
    await waitControllerReady(fed.controller);
    await sleep(6000);
    const secrets = new MemberWrites(fed.kubeconfig, CLUSTERS, { resources: { '': ['secrets'] } });
    try {
      const before = await secrets.snapshot();
      await sleep(20_000);
      const seen = writesBetween(before, await secrets.snapshot());
      report(`Secret writes in the members over 20 s with --resync 5: ${describeWrites(seen)}`);
      expect(describeWrites(seen)).toBe('0');
    } finally {
      secrets.close();
    }
    // Still the right value, still managed.
    await converge('the Secret unchanged', 'Secret', 'newline', (m) => m.data?.token, 'czNjcmV0');
  });
});
