import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/types.ts';
import { commonRule, RETAIN_RULES, replicasRule, retainFields, ruleKey } from './retention.ts';

const meta = (extra: Record<string, unknown> = {}) => ({ name: 'x', namespace: 'ns', ...extra });

describe('retainFields: every kind', () => {
  const desired: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta({
      labels: { 'kubefed.io/managed': 'true' },
      annotations: { owner: 'fed', shared: 'template' },
    }),
    data: { a: '1' },
  };
  const member: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta({
      resourceVersion: '42',
      uid: 'member-uid',
      finalizers: ['example.com/cleanup'],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', shared: 'member' },
      labels: { 'added-by-member': 'yes' },
    }),
    data: { a: 'old' },
  };

  it('keeps resourceVersion and finalizers, merges annotations with the template winning', () => {
    expect(retainFields(desired, member)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta({
        labels: { 'kubefed.io/managed': 'true' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
          owner: 'fed',
          shared: 'template',
        },
        resourceVersion: '42',
        finalizers: ['example.com/cleanup'],
      }),
      data: { a: '1' },
    });
  });

  it('does not take the member’s uid, labels or data', () => {
    const out = retainFields(desired, member);
    expect(out.metadata).not.toHaveProperty('uid');
    expect(out.metadata?.labels).toEqual({ 'kubefed.io/managed': 'true' });
  });

  it('drops finalizers and annotations the member does not have and the template does not set', () => {
    const out = retainFields(
      {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'x', finalizers: ['stale'], resourceVersion: '1' },
      },
      { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } },
    );
    expect(out.metadata).toEqual({ name: 'x', annotations: {} });
  });

  it('removes annotations fedctl set last time that the template no longer sets, keeps the member’s own', () => {
    const out = retainFields(
      { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', annotations: { kept: 'new' } } },
      {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: {
          name: 'x',
          annotations: {
            kept: 'old',
            dropped: 'gone from the template',
            'controller.example/owned': 'stays',
            'fedctl.io/template-annotations': 'dropped,kept',
            'fedctl.io/template-hash': 'abc',
            'fedctl.io/owner-uid': 'u1',
          },
        },
      },
    );
    expect(out.metadata?.annotations).toEqual({ kept: 'new', 'controller.example/owned': 'stays' });
  });

  it('never mutates its inputs', () => {
    const d = structuredClone(desired);
    const m = structuredClone(member);
    const out = retainFields(d, m);
    (out.metadata!.finalizers as string[]).push('more');
    out.metadata!.annotations!.x = 'y';
    expect(d).toEqual(desired);
    expect(m).toEqual(member);
  });

  it('creates metadata when the desired object has none', () => {
    const out: KubeObject = { kind: 'X' };
    commonRule(out, { metadata: { resourceVersion: '3' } }, {});
    expect(out.metadata).toEqual({ resourceVersion: '3', annotations: {} });
  });
});

describe('retainFields: Service', () => {
  /** A NodePort Service as the API server returns it. */
  const memberService = (): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta({ resourceVersion: '7' }),
    spec: {
      type: 'NodePort',
      clusterIP: '10.96.12.34',
      clusterIPs: ['10.96.12.34'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      externalTrafficPolicy: 'Cluster',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53, nodePort: 30053 },
      ],
      selector: { app: 'web' },
    },
  });
  const desiredService = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(),
    spec,
  });

  it('keeps clusterIP(s) and nodePorts, matching ports by name, protocol and port', () => {
    const out = retainFields(
      desiredService({
        type: 'NodePort',
        ports: [
          { name: 'dns', protocol: 'UDP', port: 53 },
          { name: 'http', port: 80 }, // protocol defaults to TCP
          { name: 'new', port: 81 },
        ],
        selector: { app: 'web' },
      }),
      memberService(),
    );
    expect(out.spec).toEqual({
      type: 'NodePort',
      clusterIP: '10.96.12.34',
      clusterIPs: ['10.96.12.34'],
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 },
        { name: 'http', port: 80, nodePort: 30080 },
        { name: 'new', port: 81 },
      ],
      selector: { app: 'web' },
    });
  });

  it.each([
    ['another port number', { name: 'http', protocol: 'TCP', port: 8080 }],
    ['another protocol', { name: 'http', protocol: 'UDP', port: 80 }],
    ['another name', { name: 'web', protocol: 'TCP', port: 80 }],
  ])('does not carry a nodePort to a port with %s', (_n, port) => {
    const out = retainFields(desiredService({ type: 'NodePort', ports: [port] }), memberService());
    expect((out.spec as { ports: object[] }).ports[0]).toEqual(port);
  });

  it('keeps a nodePort the template sets itself', () => {
    const out = retainFields(
      desiredService({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 31000 }] }),
      memberService(),
    );
    expect((out.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort).toBe(31000);
  });

  it('drops nodePorts when the template makes the Service ClusterIP (they would be refused)', () => {
    const out = retainFields(
      desiredService({ ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
      memberService(),
    );
    expect(out.spec).toEqual({
      clusterIP: '10.96.12.34',
      clusterIPs: ['10.96.12.34'],
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    });
  });

  it('does not carry a clusterIP into an ExternalName Service', () => {
    const out = retainFields(
      desiredService({ type: 'ExternalName', externalName: 'example.com' }),
      memberService(),
    );
    expect(out.spec).toEqual({ type: 'ExternalName', externalName: 'example.com' });
  });

  it('keeps healthCheckNodePort for a LoadBalancer with externalTrafficPolicy Local', () => {
    const member = memberService();
    Object.assign(member.spec as object, {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
    });
    const local = retainFields(
      desiredService({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' }),
      member,
    );
    expect((local.spec as Record<string, unknown>).healthCheckNodePort).toBe(32000);
    const cluster = retainFields(desiredService({ type: 'LoadBalancer' }), member);
    expect(cluster.spec).not.toHaveProperty('healthCheckNodePort');
  });

  it('leaves a headless Service headless and a Service without allocations alone', () => {
    const headless = retainFields(desiredService({ clusterIP: 'None' }), {
      ...memberService(),
      spec: { clusterIP: 'None', clusterIPs: ['None'] },
    });
    expect(headless.spec).toEqual({ clusterIP: 'None', clusterIPs: ['None'] });
    const fresh = retainFields(desiredService({ selector: {} }), {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: meta(),
      spec: { clusterIP: '' },
    });
    expect(fresh.spec).toEqual({ selector: {} });
  });

  it('is registered under the core-group key', () => {
    expect(RETAIN_RULES.has(ruleKey('', 'Service'))).toBe(true);
    expect(ruleKey('', 'Service')).toBe('Service');
    expect(ruleKey('batch', 'Job')).toBe('Job.batch');
  });

  it('does not apply to a Service kind of another group', () => {
    const out = retainFields(
      { apiVersion: 'example.com/v1', kind: 'Service', metadata: meta(), spec: {} },
      { apiVersion: 'example.com/v1', kind: 'Service', metadata: meta(), spec: { clusterIP: '1.2.3.4' } },
    );
    expect(out.spec).toEqual({});
  });
});

describe('retainFields: ServiceAccount', () => {
  const member: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(),
    secrets: [{ name: 'x-token-abcde' }],
  };

  it.each([
    ['absent', undefined],
    ['empty', []],
  ])('keeps the member’s token secrets when the template’s are %s', (_n, secrets) => {
    const desired: KubeObject = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(),
      ...(secrets ? { secrets } : {}),
    };
    expect(retainFields(desired, member).secrets).toEqual([{ name: 'x-token-abcde' }]);
  });

  it('takes the template’s secrets when it lists some', () => {
    const desired: KubeObject = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(),
      secrets: [{ name: 'mine' }],
    };
    expect(retainFields(desired, member).secrets).toEqual([{ name: 'mine' }]);
  });

  it('adds nothing when the member has no secrets', () => {
    const desired: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta() };
    expect(retainFields(desired, { ...member, secrets: [] })).not.toHaveProperty('secrets');
  });
});

describe('retainFields: Job', () => {
  const member: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(),
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
      template: {
        metadata: {
          labels: {
            'batch.kubernetes.io/controller-uid': 'u1',
            'batch.kubernetes.io/job-name': 'x',
            'controller-uid': 'u1',
            'job-name': 'x',
            app: 'member-only',
          },
        },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };

  it('keeps the generated selector and pod template labels, which are immutable', () => {
    const desired: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(),
      spec: {
        parallelism: 2,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    };
    expect(retainFields(desired, member).spec).toEqual({
      parallelism: 2,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
      template: {
        metadata: {
          labels: {
            app: 'web',
            'batch.kubernetes.io/controller-uid': 'u1',
            'batch.kubernetes.io/job-name': 'x',
            'controller-uid': 'u1',
            'job-name': 'x',
          },
        },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
  });

  it('leaves a manual selector alone', () => {
    const desired: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(),
      spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } } },
    };
    expect(retainFields(desired, member).spec).toEqual({
      manualSelector: true,
      selector: { matchLabels: { a: 'b' } },
    });
  });

  it('creates the pod template metadata when the template has none', () => {
    const desired: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(),
      spec: { template: { spec: {} } },
    };
    const out = retainFields(desired, member).spec as {
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(Object.keys(out.template.metadata.labels).sort()).toEqual([
      'batch.kubernetes.io/controller-uid',
      'batch.kubernetes.io/job-name',
      'controller-uid',
      'job-name',
    ]);
  });
});

describe('retainFields: replicas', () => {
  const desired: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: { replicas: 3 },
  };
  const member: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: { replicas: 7 },
  };

  it('keeps the member’s replicas when retainReplicas is true (an HPA owns them)', () => {
    expect(retainFields(desired, member, { retainReplicas: true }).spec).toEqual({ replicas: 7 });
  });

  it('takes the template’s replicas otherwise', () => {
    expect(retainFields(desired, member).spec).toEqual({ replicas: 3 });
    expect(retainFields(desired, member, { retainReplicas: false }).spec).toEqual({ replicas: 3 });
  });

  it('does nothing when the member has no replica count', () => {
    const out: KubeObject = structuredClone(desired);
    replicasRule(out, { spec: {} }, { retainReplicas: true });
    expect(out.spec).toEqual({ replicas: 3 });
  });

  it('applies to any kind with spec.replicas, e.g. a custom resource', () => {
    const d: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta(), spec: {} };
    const m: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: meta(),
      spec: { replicas: 2 },
    };
    expect(retainFields(d, m, { retainReplicas: true }).spec).toEqual({ replicas: 2 });
  });
});
