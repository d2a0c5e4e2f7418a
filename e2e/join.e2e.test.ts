import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Secret,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORE_GROUP, CORE_VERSION } from '../src/api/constants.ts';
import type { KubeFedCluster } from '../src/api/types.ts';
import { HealthProber } from '../src/clusters/health.ts';
import { type JoinResult, joinCluster } from '../src/clusters/join.ts';
import { ClusterRegistry } from '../src/clusters/registry.ts';
import { unjoinCluster } from '../src/clusters/unjoin.ts';
import {
  clientsFor,
  kubeConfigForEndpoint,
  loadKubeConfig,
  type TypedClients,
  typedClients,
} from '../src/kube/clients.ts';
import { isNotFound } from '../src/kube/errors.ts';
import { run } from '../src/kube/exec.ts';
import { KUBEFEDCLUSTER_REF } from '../src/kube/refs.ts';
import { patchStatus } from '../src/kube/resources.ts';
import { memoryLogger } from '../src/testing/logger.ts';
import { fedctl, fedctlOk } from '../testbed/harness/fedctl.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';

// fedctl join / unjoin / get clusters and the health prober on two real local clusters: cluster0 is
// the host and also a member, cluster1 a member. No controller runs here: join itself installs the
// core CRDs, and the suite drives the prober directly, so what it checks is join's own work.

const NS = 'kube-federation-system';
const SA1 = 'cluster1-cluster0';
const ROLE1 = `kubefed-controller-manager:${SA1}`;
const work = mkdtempSync(join(tmpdir(), 'fedctl-e2e-join-'));
let tb: E2ETestbed;
let kubeconfig: string;
const c: Record<string, TypedClients> = {};
let failed = false;

const read = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await fn();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
};
const kfc = (name: string) =>
  read(
    () =>
      c.cluster0!.custom.getNamespacedCustomObject({
        group: CORE_GROUP,
        version: CORE_VERSION,
        namespace: NS,
        plural: 'kubefedclusters',
        name,
      }) as Promise<KubeFedCluster>,
  );
const cli = (...args: string[]) => fedctl([...args, '--host-cluster-context', 'cluster0'], { kubeconfig });
const cliOk = (...args: string[]) =>
  fedctlOk([...args, '--host-cluster-context', 'cluster0'], { kubeconfig });

beforeAll(async () => {
  // A private testbed: its own state dir, so it never collides with a developer's or another suite's.
  const stateDir = process.env.FEDCTL_TESTBED_DIR ?? join(work, 'testbed');
  tb = await startTestbed({ clusters: 2, nodes: 1, stateDir });
  kubeconfig = tb.status.kubeconfig;
  for (const name of ['cluster0', 'cluster1']) {
    c[name] = await typedClients(clientsFor(name, loadKubeConfig({ kubeconfig, context: name })));
  }
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  if (failed && tb) process.stderr.write(`\n===== testbed diagnostics =====\n${await tb.diagnostics()}\n`);
  // Keep a failed private testbed around only when asked to (FEDCTL_KEEP_TESTBED=1).
  if (tb && !(failed && process.env.FEDCTL_KEEP_TESTBED)) {
    await tb.down();
    rmSync(work, { recursive: true, force: true });
  }
}, 300_000);

describe('fedctl join', () => {
  let cluster1: JoinResult;

  it('joins the host to itself through the CLI, installing the core CRDs it finds missing', async () => {
    const r = await cliOk('join', 'cluster0', '--cluster-context', 'cluster0', '-o', 'json');
    const result = JSON.parse(r.stdout) as JoinResult;

    expect(result.objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.name)).toContain(
      'kubefedclusters.core.kubefed.io',
    );
    expect(result.objects.find((o) => o.kind === 'KubeFedCluster')).toMatchObject({ outcome: 'created' });
    expect(r.stderr).toContain('cluster cluster0 joined to host cluster0');
    expect(await kfc('cluster0')).toBeDefined();
  });

  it('joins a member and creates every object on both sides', async () => {
    cluster1 = await joinCluster({
      host: c.cluster0!,
      member: c.cluster1!,
      clusterName: 'cluster1',
      hostClusterName: 'cluster0',
      // What the CLI records for `fedctl enable` (the member's kubeconfig context).
      memberContext: 'cluster1',
    });
    expect(cluster1.objects.map((o) => `${o.side} ${o.kind} ${o.name} ${o.outcome}`)).toEqual([
      `member Namespace ${NS} created`,
      `member ServiceAccount ${SA1} created`,
      `member Secret ${SA1} created`,
      `member ClusterRole ${ROLE1} created`,
      `member ClusterRoleBinding ${ROLE1} created`,
      `host Namespace ${NS} unchanged`,
      'host Secret cluster1 created',
      'host KubeFedCluster cluster1 created',
    ]);

    const m = c.cluster1!;
    const sa = (await m.core.readNamespacedServiceAccount({ name: SA1, namespace: NS })) as V1ServiceAccount;
    expect(sa.automountServiceAccountToken).toBe(false);
    const token = (await m.core.readNamespacedSecret({ name: SA1, namespace: NS })) as V1Secret;
    expect(token.type).toBe('kubernetes.io/service-account-token');
    expect(token.metadata?.annotations?.['kubernetes.io/service-account.name']).toBe(SA1);
    expect(token.data?.token).toBeTruthy();
    const role = (await m.rbac.readClusterRole({ name: ROLE1 })) as V1ClusterRole;
    expect(role.rules).toEqual([
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['get'] },
    ]);
    const binding = (await m.rbac.readClusterRoleBinding({ name: ROLE1 })) as V1ClusterRoleBinding;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: ROLE1,
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA1, namespace: NS }]);

    const hostSecret = (await c.cluster0!.core.readNamespacedSecret({
      name: 'cluster1',
      namespace: NS,
    })) as V1Secret;
    expect(hostSecret.data?.token).toBe(token.data?.token);
    expect(hostSecret.data?.['ca.crt']).toBe(token.data?.['ca.crt']);
    const member1 = tb.status.clusters.find((x) => x.name === 'cluster1')!;
    const kubeconfigCa = m.kc.getCurrentCluster()?.caData;
    expect((await kfc('cluster1'))?.spec).toEqual({
      apiEndpoint: member1.server,
      caBundle: kubeconfigCa,
      secretRef: { name: 'cluster1' },
      disabledTLSValidations: [],
    });
  });

  it('stores a token that works against the member with the KubeFedCluster endpoint and CA', async () => {
    const spec = (await kfc('cluster1'))!.spec;
    const secret = (await c.cluster0!.core.readNamespacedSecret({
      name: spec.secretRef.name,
      namespace: NS,
    })) as V1Secret;
    const viaToken = await typedClients(
      clientsFor(
        'cluster1-as-controller',
        kubeConfigForEndpoint({
          name: 'cluster1',
          server: spec.apiEndpoint,
          caData: spec.caBundle,
          token: Buffer.from(secret.data?.token ?? '', 'base64').toString(),
        }),
      ),
    );
    const namespaces = await viaToken.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain(NS);
    // Full access, as kubefedctl grants: the controller creates and deletes anything.
    await viaToken.core.createNamespace({ body: { metadata: { name: 'fedctl-join-probe' } } });
    await viaToken.core.deleteNamespace({ name: 'fedctl-join-probe' });
  });

  it('reports every object unchanged on a second join with --error-on-existing=false', async () => {
    const r = await cliOk(
      'join',
      'cluster1',
      '--cluster-context',
      'cluster1',
      '--error-on-existing=false',
      '-o',
      'json',
    );
    const result = JSON.parse(r.stdout) as JoinResult;
    expect(result.objects.map((o) => o.outcome)).toEqual(Array(8).fill('unchanged'));
    expect(result.secretName).toBe('cluster1');
  });

  it('refuses a re-join by default (kubefedctl --error-on-existing), in one line and exit code 1, changing nothing', async () => {
    const before = (await kfc('cluster1'))?.metadata.resourceVersion;
    const r = await cli('join', 'cluster1', '--cluster-context', 'cluster1');
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^error: KubeFedCluster ${NS}/cluster1 in host cluster cluster0, .* already exist \\(--error-on-existing, on by default as in kubefedctl\\); nothing was changed`,
      ),
    );
    expect(r.stdout).toBe('');
    expect((await kfc('cluster1'))?.metadata.resourceVersion).toBe(before);
  });

  it('runs through the package bin, as `npx fedctl` does', async () => {
    const { stdout: out } = await run(process.execPath, [
      join(import.meta.dirname, '..', 'bin', 'fedctl.js'),
      'version',
      '--kubeconfig',
      kubeconfig,
      '--host-cluster-context',
      'cluster0',
      '-o',
      'json',
    ]);
    expect(JSON.parse(out)).toMatchObject({
      fedctl: expect.any(String),
      host: { context: 'cluster0', kubernetesVersion: 'v1.36.3' },
    });
  });
});

describe('health of joined clusters', () => {
  it('marks both clusters Ready with their Kubernetes version, and writes status only on change', async () => {
    const log = memoryLogger('info');
    const registry = new ClusterRegistry({ host: c.cluster0!, namespace: NS, log });
    await registry.start();
    const writes: string[] = [];
    const prober = new HealthProber({
      members: () => registry.members(),
      writeStatus: async (name, status) => {
        writes.push(name);
        await patchStatus(c.cluster0!.kc, KUBEFEDCLUSTER_REF, name, NS, status);
      },
      log,
    });
    try {
      await waitFor('the registry to see both clusters with clients', () =>
        registry.members().filter((m) => m.clients).length === 2 ? true : undefined,
      );
      await prober.probeNow();
      expect(prober.isReady('cluster0')).toBe(true);
      expect(prober.isReady('cluster1')).toBe(true);
      expect(writes.sort()).toEqual(['cluster0', 'cluster1']);

      // Counting federated objects must work on a host where no FederatedTypeConfig exists yet; a CRD
      // just installed may answer 429 while its storage initialises (then the counts print `?`).
      const r = await waitFor('get clusters with object counts', async () => {
        const out = await cliOk('get', 'clusters');
        return out.stderr === '' ? out : undefined;
      });
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME +AGE +READY +OFFLINE +KUBERNETES-VERSION +OBJECTS +FAILING$/);
      expect(lines.slice(1).map((l) => l.split(/ +/).filter((_, i) => i !== 1))).toEqual([
        ['cluster0', 'True', 'False', 'v1.36.3', '0', '0'],
        ['cluster1', 'True', 'False', 'v1.36.3', '0', '0'],
      ]);

      // A second round finds nothing new: no status write, same resourceVersion.
      const before = (await kfc('cluster1'))?.metadata.resourceVersion;
      await prober.probeNow();
      expect(writes).toHaveLength(2);
      expect((await kfc('cluster1'))?.metadata.resourceVersion).toBe(before);
      expect((await kfc('cluster1'))?.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({
        status: 'True',
        reason: 'ClusterReady',
        message: '/healthz responded with ok',
      });
    } finally {
      prober.stop();
      registry.stop();
    }
  });
});

describe('fedctl unjoin', () => {
  it('removes everything from both sides of a member', async () => {
    const r = await cliOk('unjoin', 'cluster1', '--cluster-context', 'cluster1', '-o', 'json');
    const result = JSON.parse(r.stdout) as { objects: Array<{ kind: string; outcome: string }> };
    expect(result.objects.map((o) => `${o.kind} ${o.outcome}`)).toEqual([
      'ClusterRoleBinding deleted',
      'ClusterRole deleted',
      'Secret deleted',
      'ServiceAccount deleted',
      'Namespace deleted',
      'KubeFedCluster deleted',
      'Secret deleted',
    ]);
    const m = c.cluster1!;
    expect(await read(() => m.rbac.readClusterRoleBinding({ name: ROLE1 }))).toBeUndefined();
    expect(await read(() => m.rbac.readClusterRole({ name: ROLE1 }))).toBeUndefined();
    expect(
      await read(() => m.core.readNamespacedServiceAccount({ name: SA1, namespace: NS })),
    ).toBeUndefined();
    expect(
      await read(() => c.cluster0!.core.readNamespacedSecret({ name: 'cluster1', namespace: NS })),
    ).toBeUndefined();
    expect(await kfc('cluster1')).toBeUndefined();
    await waitFor('the member namespace to be gone', async () =>
      (await read(() => m.core.readNamespace({ name: NS }))) === undefined ? true : undefined,
    );
  });

  it('keeps the host namespace when the host itself unjoins', async () => {
    const result = await unjoinCluster({
      host: c.cluster0!,
      member: c.cluster0!,
      clusterName: 'cluster0',
      hostClusterName: 'cluster0',
    });
    expect(result.objects.find((o) => o.kind === 'Namespace')).toMatchObject({ outcome: 'kept' });
    expect(await kfc('cluster0')).toBeUndefined();
    expect(
      await read(() =>
        c.cluster0!.core.readNamespacedServiceAccount({ name: 'cluster0-cluster0', namespace: NS }),
      ),
    ).toBeUndefined();
    expect(await read(() => c.cluster0!.core.readNamespace({ name: NS }))).toBeDefined();
  });

  it('refuses to unjoin an unreachable member unless --force, which removes only the host side', async () => {
    // Join again (right after the namespace deletion: join waits for it to finish terminating).
    await cliOk('join', 'cluster1', '--cluster-context', 'cluster1');
    await tb.stopApiServer('cluster1');
    try {
      const refused = await cli('unjoin', 'cluster1', '--cluster-context', 'cluster1');
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/member cluster cluster1: cannot reach it: .*Re-run with --force/);
      expect(await kfc('cluster1')).toBeDefined();

      const forced = await cliOk('unjoin', 'cluster1', '--cluster-context', 'cluster1', '--force');
      expect(forced.stderr).toContain(`Left in cluster1: ServiceAccount ${NS}/${SA1}`);
      expect(await kfc('cluster1')).toBeUndefined();
      expect(
        await read(() => c.cluster0!.core.readNamespacedSecret({ name: 'cluster1', namespace: NS })),
      ).toBeUndefined();
    } finally {
      await tb.startApiServer('cluster1');
    }
    // What --force left behind is still there, as it said.
    expect(
      await read(() => c.cluster1!.core.readNamespacedServiceAccount({ name: SA1, namespace: NS })),
    ).toBeDefined();
  });
});
