import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../kube/errors.ts';
import { KubeConfig } from '../kube/kubeconfig.ts';
import { FAKE_CA, FakeCluster } from '../testing/fake-cluster.ts';
import {
  CLUSTER_POLICY_RULES,
  HEALTH_CHECK_RULES,
  joinCluster,
  kubeFedClusterSpec,
  MEMBER_VERBS,
  memberAccess,
  minimalPolicyRules,
  RBAC_MODE_LABEL,
  roleServesNamespace,
  sameRules,
  sameSpec,
} from './join.ts';
import { joinNames, validateJoinNames } from './join-names.ts';

const NS = 'kube-federation-system';

describe('errorMessage', () => {
  it('folds the hidden network cause into the message', () => {
    const e = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
    expect(errorMessage(e)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:6443');
  });
  it('keeps API errors as the API server said them', () => {
    const e = { code: 403, body: JSON.stringify({ reason: 'Forbidden', message: 'secrets is forbidden' }) };
    expect(errorMessage(e)).toBe('secrets is forbidden (HTTP 403, Forbidden)');
  });
});

describe('joinNames', () => {
  it('names objects as kubefedctl does: <member>-<host> account, kubefed-controller-manager role', () => {
    expect(joinNames('cluster1', 'cluster0')).toEqual({
      serviceAccount: 'cluster1-cluster0',
      tokenSecret: 'cluster1-cluster0',
      clusterRole: 'kubefed-controller-manager:cluster1-cluster0',
      role: 'kubefed-controller-manager:cluster1-cluster0',
      healthCheckRole: 'kubefed-controller-manager:kube-federation-system:healthcheck-cluster1-cluster0',
      hostSecret: 'cluster1',
      kubeFedCluster: 'cluster1',
    });
  });
  it('puts the control-plane namespace into cluster-wide names outside kube-federation-system', () => {
    const foo = joinNames('cluster1', 'cluster0', 'foo');
    expect(foo.clusterRole).toBe('kubefed-controller-manager:foo:cluster1-cluster0');
    expect(foo.healthCheckRole).toBe('kubefed-controller-manager:foo:healthcheck-cluster1-cluster0');
    expect(foo.clusterRole).not.toBe(joinNames('cluster1', 'cluster0').clusterRole);
  });
});

describe('validateJoinNames', () => {
  it.each([
    ['cluster1', 'cluster0', []],
    ['eu.west-1', 'host', []],
    ['Cluster1', 'cluster0', ['cluster name "Cluster1" is not a valid RFC 1123 subdomain']],
    ['cluster1', 'arn:aws:eks:x/y', ['host cluster name "arn:aws:eks:x/y" may not contain ":" or "/"']],
    [
      'cluster1',
      'kubernetes-admin@kubernetes',
      ['host cluster name "kubernetes-admin@kubernetes" is not a valid RFC 1123 subdomain'],
    ],
    ['-bad', 'cluster0', ['cluster name "-bad" is not a valid RFC 1123 subdomain']],
  ])('join %s to host %s reports %j', (cluster, host, expected) => {
    const problems = validateJoinNames(cluster, host);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((p, i) => {
      expect(problems[i]).toContain(p);
    });
  });
});

describe('sameRules', () => {
  it('treats order and dropped empty lists as equal', () => {
    expect(
      sameRules(
        [
          { verbs: ['get'], nonResourceURLs: ['*'], apiGroups: [] },
          { verbs: ['*'], resources: ['*'], apiGroups: ['*'] },
        ],
        CLUSTER_POLICY_RULES,
      ),
    ).toBe(true);
  });
  it('sees a narrowed rule as different', () => {
    expect(sameRules([{ verbs: ['get'], resources: ['*'], apiGroups: ['*'] }], CLUSTER_POLICY_RULES)).toBe(
      false,
    );
  });
});

describe('memberAccess', () => {
  const kcWith = (cluster: Record<string, unknown>) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'm', server: 'https://10.0.0.1:6443', skipTLSVerify: false, ...cluster }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'm', cluster: 'm', user: 'u' }],
      currentContext: 'm',
    });
    return kc;
  };

  it('reads the CA from the file a kubeconfig names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedctl-join-test-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIx\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.crt'), pem);
      const access = memberAccess(kcWith({ caFile: join(dir, 'ca.crt') }));
      expect(access).toEqual({
        server: 'https://10.0.0.1:6443',
        caData: Buffer.from(pem).toString('base64'),
        skipTLSVerify: false,
        proxyUrl: undefined,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which CA file it could not read', () => {
    expect(() => memberAccess(kcWith({ caFile: '/nonexistent/ca.crt' }))).toThrow(
      'cannot read certificate-authority file /nonexistent/ca.crt of cluster m',
    );
  });

  it('carries skip-TLS-verify and the proxy over', () => {
    expect(memberAccess(kcWith({ skipTLSVerify: true, proxyUrl: 'http://proxy:3128' }))).toMatchObject({
      skipTLSVerify: true,
      proxyUrl: 'http://proxy:3128',
    });
  });
});

describe('kubeFedClusterSpec', () => {
  const access = { server: 'https://127.0.0.1:6443', skipTLSVerify: false };
  it.each([
    [
      'uses the kubeconfig CA first',
      { access: { ...access, caData: 'KC' }, tokenSecretCa: 'SECRET', secretName: 's' },
      {
        apiEndpoint: 'https://127.0.0.1:6443',
        caBundle: 'KC',
        secretRef: { name: 's' },
        disabledTLSValidations: [],
      },
    ],
    [
      "falls back to the token Secret's ca.crt",
      { access, tokenSecretCa: 'SECRET', secretName: 's' },
      {
        apiEndpoint: 'https://127.0.0.1:6443',
        caBundle: 'SECRET',
        secretRef: { name: 's' },
        disabledTLSValidations: [],
      },
    ],
    [
      'disables all TLS validation when the kubeconfig skips verification',
      { access: { ...access, skipTLSVerify: true }, secretName: 's' },
      { apiEndpoint: 'https://127.0.0.1:6443', secretRef: { name: 's' }, disabledTLSValidations: ['*'] },
    ],
    [
      'takes the endpoint override and the proxy URL',
      {
        access: { ...access, proxyUrl: 'http://proxy:3128' },
        apiEndpoint: 'https://member.example:443',
        secretName: 's',
      },
      {
        apiEndpoint: 'https://member.example:443',
        secretRef: { name: 's' },
        disabledTLSValidations: [],
        proxyURL: 'http://proxy:3128',
      },
    ],
  ])('%s', (_, input, expected) => {
    expect(kubeFedClusterSpec(input)).toEqual(expected);
  });

  it('compares specs ignoring absent versus empty fields', () => {
    const spec = kubeFedClusterSpec({ access, secretName: 's' });
    expect(sameSpec({ apiEndpoint: access.server, secretRef: { name: 's' } }, spec)).toBe(true);
    expect(sameSpec({ apiEndpoint: access.server, secretRef: { name: 'other' } }, spec)).toBe(false);
  });
});

function pair() {
  const host = new FakeCluster('cluster0');
  const member = new FakeCluster('cluster1');
  const opts = {
    host: host.clients(),
    member: member.clients(),
    clusterName: 'cluster1',
    hostClusterName: 'cluster0',
    tokenTimeoutMs: 50,
  };
  return { host, member, opts };
}

describe('joinCluster', () => {
  it('creates the member account, token and RBAC, then the host Secret and KubeFedCluster', async () => {
    const { host, member, opts } = pair();
    const result = await joinCluster(opts);

    expect(member.writes).toEqual([
      `create Namespace ${NS}`,
      `create ServiceAccount ${NS}/cluster1-cluster0`,
      `create Secret ${NS}/cluster1-cluster0`,
      'create ClusterRole kubefed-controller-manager:cluster1-cluster0',
      'create ClusterRoleBinding kubefed-controller-manager:cluster1-cluster0',
    ]);
    expect(host.writes).toEqual([
      `create Namespace ${NS}`,
      `create Secret ${NS}/cluster1`,
      `create KubeFedCluster ${NS}/cluster1`,
    ]);
    expect(result.objects.every((o) => o.outcome === 'created')).toBe(true);

    const kfc = host.get('KubeFedCluster', 'cluster1', NS);
    expect(kfc).toMatchObject({
      apiVersion: 'core.kubefed.io/v1beta1',
      kind: 'KubeFedCluster',
      spec: {
        apiEndpoint: member.server,
        caBundle: FAKE_CA,
        secretRef: { name: 'cluster1' },
        disabledTLSValidations: [],
      },
    });
    const secret = host.get('Secret', 'cluster1', NS) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.token ?? '', 'base64').toString()).toBe('token-for-cluster1-cluster0');
    expect(secret.data['ca.crt']).toBe(FAKE_CA);
    expect(member.get('ClusterRoleBinding', 'kubefed-controller-manager:cluster1-cluster0')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'kubefed-controller-manager:cluster1-cluster0' },
      subjects: [{ kind: 'ServiceAccount', name: 'cluster1-cluster0', namespace: NS }],
    });
    expect(member.get('ServiceAccount', 'cluster1-cluster0', NS)).toMatchObject({
      automountServiceAccountToken: false,
    });
  });

  it('writes nothing on a second run and reports every object unchanged', async () => {
    const { host, member, opts } = pair();
    await joinCluster(opts);
    host.writes.length = 0;
    member.writes.length = 0;

    const again = await joinCluster(opts);

    expect([...host.writes, ...member.writes]).toEqual([]);
    expect(again.objects.map((o) => o.outcome)).toEqual(Array(8).fill('unchanged'));
  });

  it('repairs what drifted and reports it as updated', async () => {
    const { host, member, opts } = pair();
    await joinCluster(opts);
    const role = member.get('ClusterRole', 'kubefed-controller-manager:cluster1-cluster0')!;
    member.put('ClusterRole', { ...role, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] });
    const kfc = host.get('KubeFedCluster', 'cluster1', NS) as { spec: object };
    host.put('KubeFedCluster', { ...kfc, spec: { ...kfc.spec, apiEndpoint: 'https://old:6443' } });
    host.writes.length = 0;
    member.writes.length = 0;

    const result = await joinCluster(opts);

    expect(member.writes).toEqual(['update ClusterRole kubefed-controller-manager:cluster1-cluster0']);
    expect(host.writes).toEqual([`update KubeFedCluster ${NS}/cluster1`]);
    expect(result.objects.filter((o) => o.outcome === 'updated').map((o) => o.kind)).toEqual([
      'ClusterRole',
      'KubeFedCluster',
    ]);
  });

  it('keeps the Secret an existing KubeFedCluster points at, such as a kubefedctl-generated one', async () => {
    const { host, opts } = pair();
    host.put('Namespace', { metadata: { name: NS } });
    host.put('Secret', { metadata: { name: 'cluster1-x7k2p', namespace: NS }, data: { token: 'b2xk' } });
    host.put('KubeFedCluster', {
      metadata: { name: 'cluster1', namespace: NS },
      spec: { apiEndpoint: 'https://old', secretRef: { name: 'cluster1-x7k2p' } },
    });

    const result = await joinCluster(opts);

    expect(result.secretName).toBe('cluster1-x7k2p');
    expect(host.writes).toEqual([
      `update Secret ${NS}/cluster1-x7k2p`,
      `update KubeFedCluster ${NS}/cluster1`,
    ]);
  });

  it('refuses an existing KubeFedCluster with errorOnExisting before touching the member', async () => {
    const { host, member, opts } = pair();
    host.put('KubeFedCluster', {
      metadata: { name: 'cluster1', namespace: NS },
      spec: { apiEndpoint: 'x', secretRef: { name: 'y' } },
    });

    await expect(joinCluster({ ...opts, errorOnExisting: true })).rejects.toThrow(
      `KubeFedCluster ${NS}/cluster1 in host cluster cluster0 already exists (--error-on-existing`,
    );
    expect(member.writes).toEqual([]);
  });

  it('installs the core CRDs when the host has none yet, and reports them as created', async () => {
    const { host, opts } = pair();
    host.crdInstalled = false;

    const result = await joinCluster(opts);

    expect(host.writes.slice(0, 4)).toEqual([
      'create CustomResourceDefinition kubefedclusters.core.kubefed.io',
      'create CustomResourceDefinition kubefedconfigs.core.kubefed.io',
      'create CustomResourceDefinition federatedtypeconfigs.core.kubefed.io',
      'create CustomResourceDefinition replicaschedulingpreferences.scheduling.kubefed.io',
    ]);
    expect(result.objects.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(4);
    expect(host.get('KubeFedCluster', 'cluster1', NS)).toBeDefined();
  });

  it('says the CRD is missing when it may not create it, before touching the member', async () => {
    const { host, member, opts } = pair();
    host.crdInstalled = false;
    host.crdCreateForbidden = true;
    await expect(joinCluster(opts)).rejects.toThrow(
      /KubeFedCluster CRD not installed in host cluster cluster0, and creating CRD kubefedclusters.core.kubefed.io failed: .*forbidden.*; run `fedctl controller` once or apply crds\//,
    );
    expect(member.writes).toEqual([]);
  });

  it('asks whether kube-controller-manager runs when no token appears', async () => {
    const { member, opts } = pair();
    member.tokenController = false;
    await expect(joinCluster(opts)).rejects.toThrow(
      /timed out .* waiting for a token in Secret kube-federation-system\/cluster1-cluster0 .* is kube-controller-manager running in cluster1\?/,
    );
  });

  it('replaces a token Secret left over from an earlier ServiceAccount of the same name', async () => {
    const { member, opts } = pair();
    await joinCluster(opts);
    const secret = member.get('Secret', 'cluster1-cluster0', NS)!;
    member.put('Secret', {
      ...secret,
      metadata: {
        ...secret.metadata,
        annotations: {
          'kubernetes.io/service-account.name': 'cluster1-cluster0',
          'kubernetes.io/service-account.uid': 'gone',
        },
      },
    });
    member.writes.length = 0;

    const result = await joinCluster(opts);

    expect(member.writes).toEqual([
      `delete Secret ${NS}/cluster1-cluster0`,
      `create Secret ${NS}/cluster1-cluster0`,
    ]);
    expect(result.objects.find((o) => o.kind === 'Secret' && o.side === 'member')?.outcome).toBe('updated');
  });

  it('joins the host to itself with both sides in one cluster', async () => {
    const host = new FakeCluster('cluster0');
    const result = await joinCluster({
      host: host.clients(),
      member: host.clients(),
      clusterName: 'cluster0',
      hostClusterName: 'cluster0',
    });
    expect(result.objects.find((o) => o.side === 'host' && o.kind === 'Namespace')?.outcome).toBe(
      'unchanged',
    );
    expect(host.get('KubeFedCluster', 'cluster0', NS)).toBeDefined();
    expect(host.get('ServiceAccount', 'cluster0-cluster0', NS)).toBeDefined();
  });
});

describe('joinCluster, kubefedctl compatibility and least privilege', () => {
  it('writes nothing in either cluster with dryRun, and reports what it would create', async () => {
    const { host, member, opts } = pair();
    const result = await joinCluster({ ...opts, dryRun: true });
    expect(member.writes).toEqual([]);
    expect(host.writes).toEqual([]);
    expect(result.dryRun).toBe(true);
    expect(result.objects.filter((o) => o.side === 'member').map((o) => `${o.kind} ${o.outcome}`)).toEqual([
      'Namespace created',
      'ServiceAccount created',
      'Secret created',
      'ClusterRole created',
      'ClusterRoleBinding created',
    ]);
  });

  it('uses --secret-name for the host Secret', async () => {
    const { host, opts } = pair();
    const result = await joinCluster({ ...opts, secretName: 'creds-1' });
    expect(result.spec.secretRef.name).toBe('creds-1');
    expect(host.get('Secret', 'creds-1', NS)).toBeDefined();
  });

  it('grants a Role in the control-plane namespace and a health-check ClusterRole under namespaced scope', async () => {
    const { host, member, opts } = pair();
    host.put('KubeFedConfig', {
      metadata: { name: 'kubefed', namespace: NS },
      spec: { scope: 'Namespaced' },
    });
    const result = await joinCluster(opts);
    expect(result.scope).toBe('Namespaced');
    expect(member.writes.filter((w) => /Role/.test(w))).toEqual([
      `create Role ${NS}/kubefed-controller-manager:cluster1-cluster0`,
      `create RoleBinding ${NS}/kubefed-controller-manager:cluster1-cluster0`,
      `create ClusterRole kubefed-controller-manager:${NS}:healthcheck-cluster1-cluster0`,
      `create ClusterRoleBinding kubefed-controller-manager:${NS}:healthcheck-cluster1-cluster0`,
    ]);
    expect(
      member.get('ClusterRole', `kubefed-controller-manager:${NS}:healthcheck-cluster1-cluster0`)?.rules,
    ).toEqual(HEALTH_CHECK_RULES);
  });

  it('grants only the enabled federated types with rbac minimal, and labels the role for enable', async () => {
    const { host, member, opts } = pair();
    const ftc = (plural: string, group: string | undefined, propagation = 'Enabled') => ({
      metadata: { name: group ? `${plural}.${group}` : plural, namespace: NS },
      spec: { targetType: { group, pluralName: plural, scope: 'Namespaced' }, propagation },
    });
    host.put('FederatedTypeConfig', ftc('configmaps', undefined));
    host.put('FederatedTypeConfig', ftc('deployments', 'apps'));
    host.put('FederatedTypeConfig', ftc('secrets', undefined, 'Disabled'));
    await joinCluster({ ...opts, rbac: 'minimal' });
    const role = member.get('ClusterRole', 'kubefed-controller-manager:cluster1-cluster0')!;
    expect(role.metadata?.labels).toEqual({ [RBAC_MODE_LABEL]: 'minimal' });
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: MEMBER_VERBS },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: MEMBER_VERBS },
      ...HEALTH_CHECK_RULES,
    ]);
    const kfc = host.get('KubeFedCluster', 'cluster1', NS) as {
      metadata: { annotations?: Record<string, string> };
    };
    expect(kfc.metadata.annotations?.[RBAC_MODE_LABEL]).toBe('minimal');
  });

  it('leaves the binding of a federation in another namespace alone', async () => {
    const { member, opts } = pair();
    await joinCluster(opts);
    const before = structuredClone(
      member.get('ClusterRoleBinding', 'kubefed-controller-manager:cluster1-cluster0'),
    );
    member.writes.length = 0;
    await joinCluster({ ...opts, kubefedNamespace: 'foo' });
    expect(member.writes.filter((w) => /ClusterRole/.test(w))).toEqual([
      'create ClusterRole kubefed-controller-manager:foo:cluster1-cluster0',
      'create ClusterRoleBinding kubefed-controller-manager:foo:cluster1-cluster0',
    ]);
    expect(member.get('ClusterRoleBinding', 'kubefed-controller-manager:cluster1-cluster0')).toEqual(before);
  });

  it('refuses, changing nothing, when a binding of its name binds someone else', async () => {
    const { member, opts } = pair();
    member.put('ClusterRoleBinding', {
      metadata: { name: 'kubefed-controller-manager:cluster1-cluster0' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'x' },
      subjects: [{ kind: 'ServiceAccount', name: 'cluster1-cluster0', namespace: 'other' }],
    });
    await expect(joinCluster(opts)).rejects.toThrow(
      'binds ServiceAccount other/cluster1-cluster0, not this join',
    );
    expect(member.writes).toEqual([]);
  });
});

describe('minimalPolicyRules', () => {
  const types = [
    { group: 'apps', plural: 'deployments', namespaced: true },
    { group: '', plural: 'namespaces', namespaced: false },
    { group: 'apps', plural: 'daemonsets', namespaced: true },
  ];
  it.each([
    [
      'Cluster',
      [
        { apiGroups: [''], resources: ['namespaces'], verbs: MEMBER_VERBS },
        { apiGroups: ['apps'], resources: ['daemonsets', 'deployments'], verbs: MEMBER_VERBS },
        ...HEALTH_CHECK_RULES,
      ],
    ],
    ['Namespaced', [{ apiGroups: ['apps'], resources: ['daemonsets', 'deployments'], verbs: MEMBER_VERBS }]],
  ] as const)('%s scope', (scope, expected) => {
    expect(minimalPolicyRules(types, scope)).toEqual(expected);
  });
});

describe('roleServesNamespace', () => {
  it.each([
    ['kubefed-controller-manager:c1-c0', NS, 'Cluster', true],
    ['kubefed-controller-manager:foo:c1-c0', NS, 'Cluster', false],
    ['kubefed-controller-manager:foo:c1-c0', 'foo', 'Cluster', true],
    ['kubefed-controller-manager:c1-c0', 'foo', 'Cluster', false],
    ['something-else', NS, 'Cluster', false],
  ] as const)('%s in %s (%s scope): %s', (name, ns, scope, want) => {
    expect(roleServesNamespace(name, ns, scope)).toBe(want);
  });
});
