import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/types.ts';
import { desiredObject } from './desired.ts';
import { isSubset, needsUpdate, parseQuantity, upToDate, versionOf } from './equality.ts';
import { retainFields } from './retention.ts';

describe('isSubset', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal scalars', 1, 1, true],
    ['different scalars', 1, 2, false],
    ['string vs number', '1', 1, false],
    ['extra member keys', { a: 1 }, { a: 1, b: 2 }, true],
    ['missing member key', { a: 1, b: 2 }, { a: 1 }, false],
    ['nested difference', { a: { b: 1 } }, { a: { b: 2, c: 3 } }, false],
    ['nested subset', { a: { b: 1 } }, { a: { b: 1, c: 3 } }, true],
    ['equal arrays of subsets', [{ a: 1 }], [{ a: 1, b: 2 }], true],
    ['longer member array', [1], [1, 2], false],
    ['shorter member array', [1, 2], [1], false],
    ['reordered array', [1, 2], [2, 1], false],
    ['array vs object', [], {}, false],
    ['object vs scalar', { a: 1 }, 'x', false],
    [
      'desired null matches a defaulted member',
      { strategy: null },
      { strategy: { type: 'RollingUpdate' } },
      true,
    ],
    ['desired "" matches an omitted field', { hostname: '' }, {}, true],
    ['desired 0 matches an omitted field', { n: 0 }, {}, true],
    ['desired false matches an omitted field', { hostNetwork: false }, {}, true],
    ['desired [] matches an omitted field', { env: [] }, {}, true],
    ['desired {} matches an omitted field', { resources: {} }, {}, true],
    [
      'desired object of zero values matches an omitted field',
      { securityContext: { privileged: false, caps: [] } },
      {},
      true,
    ],
    ['desired "" does not match a member value', { data: '' }, { data: 'x' }, false],
    ['desired false does not match member true', { paused: false }, { paused: true }, false],
    ['desired non-zero against an omitted field', { n: 1 }, {}, false],
    ['desired value against member null', { a: 'x' }, { a: null }, false],
  ])('%s → %s', (_name, desired, member, expected) => {
    expect(isSubset(desired, member)).toBe(expected);
  });

  it.each<[string, unknown, unknown, boolean]>([
    ['0.5 cpu = 500m', { limits: { cpu: '0.5' } }, { limits: { cpu: '500m' } }, true],
    ['number cpu 1 = "1"', { requests: { cpu: 1 } }, { requests: { cpu: '1' } }, true],
    ['1Gi = 1024Mi', { limits: { memory: '1Gi' } }, { limits: { memory: '1024Mi' } }, true],
    ['1e3 = 1k', { requests: { memory: '1e3' } }, { requests: { memory: '1k' } }, true],
    ['1G ≠ 1Gi', { limits: { memory: '1G' } }, { limits: { memory: '1Gi' } }, false],
    ['100m ≠ 200m', { limits: { cpu: '100m' } }, { limits: { cpu: '200m' } }, false],
    ['quota hard', { hard: { pods: '10' } }, { hard: { pods: 10 } }, true],
    ['emptyDir sizeLimit', { emptyDir: { sizeLimit: '1024Ki' } }, { emptyDir: { sizeLimit: '1Mi' } }, true],
    [
      'storage request',
      { resources: { requests: { storage: '1.5Gi' } } },
      { resources: { requests: { storage: '1536Mi' } } },
      true,
    ],
    ['not a quantity position', { data: { x: '1k' } }, { data: { x: '1000' } }, false],
    ['garbage in a quantity position', { limits: { cpu: 'lots' } }, { limits: { cpu: 'lots!' } }, false],
  ])('compares quantities by value: %s → %s', (_name, desired, member, expected) => {
    expect(isSubset(desired, member)).toBe(expected);
  });
});

describe('parseQuantity', () => {
  it.each<[unknown, bigint | undefined]>([
    ['1', 1_000_000_000n],
    ['500m', 500_000_000n],
    ['0.5', 500_000_000n],
    ['.5', 500_000_000n],
    ['1Ki', 1024n * 1_000_000_000n],
    ['1.5Gi', 1_610_612_736n * 1_000_000_000n],
    ['2k', 2_000_000_000_000n],
    ['1E', 10n ** 27n],
    ['3n', 3n],
    ['1u', 1000n],
    ['1e-10', 1n], // rounded up to 1n, as the API server does
    ['-1', -1_000_000_000n],
    ['+2', 2_000_000_000n],
    [2.5, 2_500_000_000n],
    ['1.', 1_000_000_000n],
    ['', undefined],
    ['1 Gi', undefined],
    ['1KB', undefined],
    ['Gi', undefined],
    [Number.NaN, undefined],
    [null, undefined],
    ['1e999', undefined],
  ])('%j → %s', (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });
});

describe('needsUpdate', () => {
  /** Built the way the sync controller builds it: template → desired → retained. */
  const deploymentTemplate = {
    metadata: { labels: { app: 'web' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.27',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '0.5', memory: '128Mi' }, requests: { cpu: 0.1 } },
              env: [],
            },
          ],
        },
      },
    },
  };

  /** The same Deployment as a v1.3x API server returns it after defaulting and a controller's status write. */
  const memberDeployment = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: '7f8d2c4e-0000-4000-8000-000000000001',
      resourceVersion: '12345',
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web', 'kubefed.io/managed': 'true' },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      managedFields: [{ manager: 'fedctl', operation: 'Update', apiVersion: 'apps/v1' }],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.27',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    },
  });

  const desiredDeployment = (template = deploymentTemplate) =>
    desiredObject(
      { metadata: { name: 'web', namespace: 'shop' }, spec: { template } },
      { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
    );

  const candidate = (member: KubeObject, template = deploymentTemplate) =>
    retainFields(desiredDeployment(template), member);

  it('sends no update for a Deployment the API server has defaulted (steady state)', () => {
    const member = memberDeployment();
    expect(needsUpdate(candidate(member), member)).toBe(false);
    // Also without retention: server-owned metadata is ignored.
    expect(needsUpdate(desiredDeployment(), member)).toBe(false);
  });

  it('updates a Deployment whose image drifted in the member', () => {
    const member = memberDeployment();
    (member.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
      .containers[0]!.image = 'nginx:1.26';
    expect(needsUpdate(candidate(member), member)).toBe(true);
  });

  it('updates a Deployment when the template changes replicas, a limit or a label', () => {
    const member = memberDeployment();
    const t = structuredClone(deploymentTemplate);
    t.spec.replicas = 4;
    expect(needsUpdate(candidate(member, t), member)).toBe(true);
    const cpu = structuredClone(deploymentTemplate);
    cpu.spec.template.spec.containers[0]!.resources.limits.cpu = '1';
    expect(needsUpdate(candidate(member, cpu), member)).toBe(true);
    const label = structuredClone(deploymentTemplate);
    label.metadata.labels = { app: 'web', tier: 'gold' } as never;
    expect(needsUpdate(candidate(member, label), member)).toBe(true);
  });

  it('updates a member that lost its managed label', () => {
    const member = memberDeployment();
    delete member.metadata!.labels!['kubefed.io/managed'];
    expect(needsUpdate(candidate(member), member)).toBe(true);
  });

  it('updates when a template annotation differs from the member’s, not when the member has extra ones', () => {
    const member = memberDeployment();
    const t = structuredClone(deploymentTemplate) as typeof deploymentTemplate & {
      metadata: { annotations?: Record<string, string> };
    };
    t.metadata.annotations = { team: 'a' };
    expect(needsUpdate(candidate(member, t), member)).toBe(true);
    member.metadata!.annotations!.team = 'a';
    expect(needsUpdate(candidate(member, t), member)).toBe(false);
  });

  it('updates when a container is added or removed', () => {
    const member = memberDeployment();
    const t = structuredClone(deploymentTemplate);
    t.spec.template.spec.containers.push({ ...t.spec.template.spec.containers[0]!, name: 'sidecar' });
    expect(needsUpdate(candidate(member, t), member)).toBe(true);
  });

  it('ignores status and every server-owned metadata field', () => {
    const member = memberDeployment();
    const desired = candidate(member);
    const changed = structuredClone(member);
    Object.assign(changed.metadata!, {
      resourceVersion: '99999',
      uid: 'other',
      generation: 9,
      creationTimestamp: '2027-01-01T00:00:00Z',
      managedFields: [],
      selfLink: '/x',
      deletionTimestamp: '2027-01-01T00:00:00Z',
      deletionGracePeriodSeconds: 30,
    });
    changed.status = { replicas: 0 };
    expect(needsUpdate(desired, changed)).toBe(false);
    const withStatus = { ...desired, status: { replicas: 3 } };
    expect(needsUpdate(withStatus, { ...member, status: { replicas: 1 } })).toBe(false);
  });

  /** A Service as the API server returns it: allocated IPs and nodePorts, defaulted fields. */
  const memberService = (): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u',
      resourceVersion: '55',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'kubefed.io/managed': 'true' },
    },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      clusterIP: '10.96.0.17',
      clusterIPs: ['10.96.0.17'],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: {} },
  });
  const serviceTemplate = {
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
  const serviceCandidate = (member: KubeObject, template: KubeObject = serviceTemplate) =>
    retainFields(
      desiredObject(
        { metadata: { name: 'web', namespace: 'shop' }, spec: { template } },
        { apiVersion: 'v1', kind: 'Service', namespaced: true },
      ),
      member,
    );

  it('sends no update for a Service with allocated clusterIP and nodePort (steady state)', () => {
    const member = memberService();
    expect(needsUpdate(serviceCandidate(member), member)).toBe(false);
  });

  it('updates a Service whose selector or port changed in the template', () => {
    const member = memberService();
    expect(
      needsUpdate(
        serviceCandidate(member, { spec: { ...serviceTemplate.spec, selector: { app: 'api' } } }),
        member,
      ),
    ).toBe(true);
    expect(
      needsUpdate(
        serviceCandidate(member, {
          spec: { ...serviceTemplate.spec, ports: [{ name: 'http', port: 80, targetPort: 9090 }] },
        }),
        member,
      ),
    ).toBe(true);
  });

  it('compares a Secret’s stringData as the base64 data the server stores', () => {
    const member: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'shop' },
      type: 'Opaque',
      data: { user: Buffer.from('admin').toString('base64'), pass: Buffer.from('old').toString('base64') },
    };
    const desired = (stringData: Record<string, string>, data?: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'shop' },
      stringData,
      ...(data ? { data } : {}),
    });
    expect(needsUpdate(desired({ user: 'admin' }), member)).toBe(false);
    expect(needsUpdate(desired({ pass: 'new' }), member)).toBe(true);
    // stringData wins over data for the same key, as on the server.
    expect(needsUpdate(desired({ pass: 'old' }, { pass: Buffer.from('x').toString('base64') }), member)).toBe(
      false,
    );
  });

  it('sends no update for a Namespace the server labelled and finalized', () => {
    const desired = desiredObject(
      { metadata: { name: 'shop', namespace: 'shop' }, spec: {} },
      { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
    );
    const member: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        resourceVersion: '3',
        labels: { 'kubefed.io/managed': 'true', 'kubernetes.io/metadata.name': 'shop' },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    expect(needsUpdate(retainFields(desired, member), member)).toBe(false);
  });

  it('accepts client-node objects with Date timestamps', () => {
    const member = {
      ...memberDeployment(),
      metadata: { ...memberDeployment().metadata, creationTimestamp: new Date() },
    };
    expect(needsUpdate(candidate(memberDeployment()), member)).toBe(false);
  });
});

describe('upToDate', () => {
  const candidate = (): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'c',
      namespace: 'n',
      labels: { app: 'a', 'kubefed.io/managed': 'true' },
      annotations: { 'fedctl.io/owner-uid': 'u1', 'fedctl.io/template-hash': 'h1', note: 'x' },
    },
    data: { a: '1' },
  });
  const member = (change: (o: KubeObject) => void = () => undefined): KubeObject => {
    const o = candidate();
    o.metadata = { ...o.metadata, resourceVersion: '9', uid: 'm1' };
    change(o);
    return o;
  };

  it.each<[string, (o: KubeObject) => void, string | undefined, boolean]>([
    ['the member fedctl wrote, version as recorded', () => undefined, 'rv:9', true],
    ['the member fedctl wrote, nothing recorded (after an upgrade)', () => undefined, undefined, true],
    [
      'another template hash (template or overrides changed)',
      (o) => {
        o.metadata!.annotations!['fedctl.io/template-hash'] = 'h0';
      },
      'rv:9',
      false,
    ],
    [
      'another owner (made for an earlier object of that name)',
      (o) => {
        o.metadata!.annotations!['fedctl.io/owner-uid'] = 'u0';
      },
      'rv:9',
      false,
    ],
    [
      'no fedctl annotations (made by KubeFed or by hand)',
      (o) => {
        o.metadata!.annotations = {};
      },
      undefined,
      false,
    ],
    [
      'changed by someone else since fedctl wrote it',
      (o) => {
        o.metadata!.resourceVersion = '10';
      },
      'rv:9',
      false,
    ],
    [
      'a data key added by hand',
      (o) => {
        (o.data as Record<string, string>).b = '2';
        o.metadata!.resourceVersion = '10';
      },
      'rv:9',
      false,
    ],
    [
      'a label added by hand',
      (o) => {
        o.metadata!.labels!.extra = 'y';
      },
      undefined,
      false,
    ],
    [
      'a value changed by hand (subset check)',
      (o) => {
        (o.data as Record<string, string>).a = '2';
      },
      undefined,
      false,
    ],
    [
      'an annotation a member controller added',
      (o) => {
        o.metadata!.annotations!['ctrl/x'] = 'y';
      },
      'rv:9',
      true,
    ],
    [
      'read at another served version',
      (o) => {
        o.apiVersion = 'v1beta1';
      },
      'rv:9',
      true,
    ],
  ])('%s → %s', (_name, change, recorded, expected) => {
    expect(upToDate(candidate(), member(change), recorded)).toBe(expected);
  });

  it('accepts the label the API server adds to every Namespace', () => {
    const ns: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'n', labels: { 'kubefed.io/managed': 'true' } },
    };
    const live: KubeObject = {
      ...ns,
      metadata: { name: 'n', labels: { 'kubefed.io/managed': 'true', 'kubernetes.io/metadata.name': 'n' } },
    };
    expect(upToDate(ns, live)).toBe(true);
  });

  it('compares a Secret data value as the server stores it (line breaks dropped)', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { k: 'c2VjcmV0\n' },
    };
    expect(upToDate(secret, { ...secret, data: { k: 'c2VjcmV0' } })).toBe(true);
  });
});

describe('versionOf', () => {
  it.each([
    [{ metadata: { generation: 3, resourceVersion: '9' } }, 'gen:3'],
    [{ metadata: { resourceVersion: '9' } }, 'rv:9'],
    [{ metadata: { generation: 0, resourceVersion: '9' } }, 'rv:9'],
  ])('%j → %s', (obj, expected) => {
    expect(versionOf(obj)).toBe(expected);
  });
});
