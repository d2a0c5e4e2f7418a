import { mkdtempSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeRequest } from '../src/kube/transport.ts';
import { ControllerProcess, fedctlOk } from '../testbed/harness/fedctl.ts';
import { apply, clusterApi, mergePatch, read, remove } from '../testbed/harness/kube.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';

// KubeFed's API checks without a webhook, disabledTLSValidations, and a least-privilege join, on one
// real local cluster that is host and member (cluster0) with `fedctl controller` running.

const NS = 'kube-federation-system';
const CORE = 'core.kubefed.io/v1beta1';
const work = mkdtempSync(join(tmpdir(), 'fedctl-e2e-kubefed-api-'));
let tb: E2ETestbed;
let kubeconfig: string;
let host: KubernetesObjectApi;
let controller: ControllerProcess;
/** A second control plane, in namespace ns-federation with scope Namespaced (last describe). */
let namespaced: ControllerProcess | undefined;
let failed = false;
let forwarder: Server | undefined;
const forwarded = new Set<Socket>();

type Condition = { type: string; status: string; reason?: string; message?: string };
type WithConditions = KubernetesObject & {
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[] };
};

/** What the API server said when it refused a write (its Status message), or "accepted". */
async function refusal(obj: KubernetesObject): Promise<string> {
  try {
    await host.create(obj);
    return 'accepted';
  } catch (e) {
    const body = (e as { body?: unknown }).body;
    try {
      return String(JSON.parse(String(body)).message);
    } catch {
      return String(body ?? (e as Error).message);
    }
  }
}

/** `fedctl join cluster0` into cluster0 (host and member), with extra flags. */
const joinCluster0 = (...flags: string[]) =>
  fedctlOk(
    ['join', 'cluster0', '--cluster-context', 'cluster0', '--host-cluster-context', 'cluster0', ...flags],
    {
      kubeconfig,
    },
  );

const condition = (o: WithConditions | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  tb = await startTestbed({ clusters: 1, nodes: 1, stateDir: join(work, 'testbed') });
  kubeconfig = tb.status.kubeconfig;
  host = clusterApi(kubeconfig, 'cluster0').api;
  controller = new ControllerProcess(join(work, 'controller.log'));
  controller.start(
    ['--host-cluster-context', 'cluster0', '--metrics-port', '0', '--coredns-binary', tb.binDir],
    kubeconfig,
  );
  await waitFor(
    'the controller to install the default FederatedTypeConfigs',
    () => read(host, CORE, 'FederatedTypeConfig', 'configmaps', NS),
    { timeoutMs: 120_000 },
  );
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  if (failed)
    process.stderr.write(
      `\n--- controller log (tail) ---\n${controller?.tail(120)}\n--- namespaced controller log (tail) ---\n${namespaced?.tail(120)}\n--- testbed ---\n${await tb?.diagnostics()}\n`,
    );
  for (const s of forwarded) s.destroy();
  await new Promise((r) => (forwarder ? forwarder.close(r) : r(undefined)));
  await controller?.stop();
  await namespaced?.stop();
  await tb?.down();
}, 300_000);

describe('KubeFed validation and defaulting by the API server', () => {
  it('stores a bare KubeFedConfig with KubeFed v0.10 defaults filled in', async () => {
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other-federation' } });
    await apply(host, {
      apiVersion: CORE,
      kind: 'KubeFedConfig',
      metadata: { name: 'kubefed', namespace: 'other-federation' },
      spec: { scope: 'Namespaced' },
    } as KubernetesObject);
    const stored = await read<WithConditions>(host, CORE, 'KubeFedConfig', 'kubefed', 'other-federation');
    expect(stored?.spec).toEqual({
      scope: 'Namespaced',
      controllerDuration: { availableDelay: '20s', unavailableDelay: '1m0s', cacheSyncTimeout: '5m0s' },
      leaderElect: {
        leaseDuration: '15s',
        renewDeadline: '10s',
        retryPeriod: '5s',
        resourceLock: 'configmaps',
      },
      featureGates: [
        { name: 'PushReconciler', configuration: 'Enabled' },
        { name: 'RawResourceStatusCollection', configuration: 'Disabled' },
        { name: 'SchedulerPreferences', configuration: 'Enabled' },
      ],
      clusterHealthCheck: { period: '10s', timeout: '3s', failureThreshold: 3, successThreshold: 1 },
      syncController: { maxConcurrentReconciles: 1, adoptResources: 'Enabled' },
      statusController: { maxConcurrentReconciles: 1 },
    });
  });

  it('refuses a KubeFedConfig KubeFed refused, saying which field and why', async () => {
    const message = await refusal({
      apiVersion: CORE,
      kind: 'KubeFedConfig',
      metadata: { name: 'bad', namespace: 'other-federation' },
      spec: {
        scope: 'Cluster',
        leaderElect: { leaseDuration: '5s', renewDeadline: '10s' },
        clusterHealthCheck: { period: '0s' },
      },
    } as KubernetesObject);
    expect(message).toContain('spec.leaderElect.leaseDuration');
    expect(message).toContain('leaseDuration must be greater than renewDeadline');
    expect(message).toContain('spec.clusterHealthCheck.period');
    expect(message).toContain('should be greater than 0');
    // The scope of a control plane is immutable (the bare config above is Namespaced).
    await expect(
      mergePatch(
        host,
        {
          apiVersion: CORE,
          kind: 'KubeFedConfig',
          metadata: { name: 'kubefed', namespace: 'other-federation' },
        },
        {
          spec: { scope: 'Cluster' },
        },
      ),
    ).rejects.toThrow(/scope is immutable/);
  });

  it('refuses a FederatedTypeConfig whose federated type has no group, or whose name does not match', async () => {
    const ftc = (name: string, federatedGroup: string) =>
      ({
        apiVersion: CORE,
        kind: 'FederatedTypeConfig',
        metadata: { name, namespace: NS },
        spec: {
          propagation: 'Enabled',
          targetType: {
            group: 'example.io',
            version: 'v1',
            kind: 'Widget',
            pluralName: 'widgets',
            scope: 'Namespaced',
          },
          federatedType: {
            group: federatedGroup,
            version: 'v1beta1',
            kind: 'FederatedWidget',
            pluralName: 'federatedwidgets',
            scope: 'Namespaced',
          },
        },
      }) as KubernetesObject;
    const noGroup = await refusal(ftc('widgets.example.io', ''));
    expect(noGroup).toContain('spec.federatedType.group: Required value');
    expect(noGroup).toContain('a domain with at least one dot');
    expect(await refusal(ftc('widgets', 'types.kubefed.io'))).toContain(
      "metadata.name must be 'widgets.example.io'",
    );
    expect(await read(host, CORE, 'FederatedTypeConfig', 'widgets.example.io', NS)).toBeUndefined();
  });

  it('refuses a KubeFedCluster with * among other TLS validations, a bad scheme or a bad secret name', async () => {
    const message = await refusal({
      apiVersion: CORE,
      kind: 'KubeFedCluster',
      metadata: { name: 'bad', namespace: NS },
      spec: {
        apiEndpoint: 'ftp://127.0.0.1:6443',
        secretRef: { name: 'Not_A_Name' },
        disabledTLSValidations: ['*', 'SubjectName'],
      },
    } as KubernetesObject);
    expect(message).toContain('when * is specified, it is expected to be the only option in list');
    expect(message).toContain('apiEndpoint scheme must be http or https');
    expect(message).toContain('spec.secretRef.name');
  });
});

describe('a member joined with --rbac=minimal, reached under another name', () => {
  it('joins and becomes Ready with only the enabled types granted', async () => {
    await joinCluster0('--rbac=minimal');
    await waitFor(
      'KubeFedCluster cluster0 Ready',
      async () =>
        condition(await read<WithConditions>(host, CORE, 'KubeFedCluster', 'cluster0', NS), 'Ready')
          ?.status === 'True',
      { timeoutMs: 90_000 },
    );
  });

  it('is Offline through an address its certificate does not name, and Ready with SubjectName disabled', async () => {
    // 127.0.0.2 is loopback but not in the API server certificate's names (testbed/pki.ts).
    const server = new URL(
      clusterApi(kubeconfig, 'cluster0').kc.getCurrentCluster()?.server ?? 'https://127.0.0.1:6443',
    );
    forwarder = createServer((client) => {
      const upstream = netConnect(Number(server.port), server.hostname);
      for (const s of [client, upstream]) {
        forwarded.add(s);
        s.on('close', () => forwarded.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => forwarder?.listen(0, '127.0.0.2', r));
    const port = (forwarder.address() as { port: number }).port;
    const joined = await read<WithConditions>(host, CORE, 'KubeFedCluster', 'cluster0', NS);
    await apply(host, {
      apiVersion: CORE,
      kind: 'KubeFedCluster',
      metadata: { name: 'renamed', namespace: NS },
      spec: { ...joined?.spec, apiEndpoint: `https://127.0.0.2:${port}`, disabledTLSValidations: [] },
    } as KubernetesObject);
    const offline = await waitFor(
      'KubeFedCluster renamed not Ready, with the name mismatch as reason',
      async () => {
        const k = await read<WithConditions>(host, CORE, 'KubeFedCluster', 'renamed', NS);
        return condition(k, 'Ready')?.status === 'False' ? k : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(condition(offline, 'Offline')?.status).toBe('True');
    expect(JSON.stringify(offline.status?.conditions)).toMatch(/127\.0\.0\.2.*(altnames|cert's list)/);

    await mergePatch(host, offline, { spec: { disabledTLSValidations: ['SubjectName'] } });
    await waitFor(
      'KubeFedCluster renamed Ready with SubjectName disabled',
      async () =>
        condition(await read<WithConditions>(host, CORE, 'KubeFedCluster', 'renamed', NS), 'Ready')
          ?.status === 'True',
      { timeoutMs: 90_000 },
    );
    // One cluster under two names would receive every object twice: keep it out of what follows.
    await remove(host, CORE, 'KubeFedCluster', 'renamed', NS);
  });

  it('refuses a kind that was not enabled (forbidden) and accepts it after `fedctl enable`', async () => {
    // As a KubeFed user applying `kubefedctl enable -o yaml` output with kubectl: the type is there,
    // but the member's minimal role was not extended.
    const printed = await fedctlOk(
      ['enable', 'limitranges', '--host-cluster-context', 'cluster0', '-o', 'yaml'],
      {
        kubeconfig,
      },
    );
    // Sent as JSON (kubectl's way): client-node's typed serializer would drop the CRD's
    // x-kubernetes-preserve-unknown-fields, and the API server would then prune every template.
    const hostKc = clusterApi(kubeconfig, 'cluster0').kc;
    for (const doc of parseAllDocuments(printed.stdout)) {
      const obj = doc.toJSON() as KubernetesObject | null;
      if (!obj) continue;
      const path =
        obj.kind === 'CustomResourceDefinition'
          ? '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'
          : `/apis/${CORE}/namespaces/${NS}/federatedtypeconfigs`;
      await kubeRequest(hostKc, { method: 'POST', path, body: obj });
    }
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'minimal-rbac' } });
    const placement = { placement: { clusters: [{ name: 'cluster0' }] } };
    await apply(host, {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedNamespace',
      metadata: { name: 'minimal-rbac', namespace: 'minimal-rbac' },
      spec: placement,
    } as KubernetesObject);
    const federated = {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedLimitRange',
      metadata: { name: 'web', namespace: 'minimal-rbac' },
      spec: {
        ...placement,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { limits: [{ type: 'Container', default: { cpu: '100m' } }] },
        },
      },
    } as KubernetesObject;
    await waitFor('the FederatedLimitRange CRD to serve', async () => {
      try {
        return await apply(host, federated);
      } catch {
        return undefined;
      }
    });
    type Fed = KubernetesObject & { status?: { clusters?: Array<{ name: string; status?: string }> } };
    const refused = await waitFor(
      'FederatedLimitRange web to report cluster0 unretrievable',
      async () => {
        const f = await read<Fed>(
          host,
          'types.kubefed.io/v1beta1',
          'FederatedLimitRange',
          'web',
          'minimal-rbac',
        );
        return f?.status?.clusters?.find(
          (c) => c.name === 'cluster0' && c.status === 'CachedRetrievalFailed',
        );
      },
      { timeoutMs: 120_000 },
    );
    expect(refused.status).toBe('CachedRetrievalFailed');
    // The member's own verdict: its account may not list limitranges.
    expect(controller.tail(400)).toMatch(/limitranges.*forbidden|forbidden.*limitranges/i);
    const member = clusterApi(kubeconfig, 'cluster0').api; // the member is the host cluster here
    expect(await read(member, 'v1', 'LimitRange', 'web', 'minimal-rbac')).toBeUndefined();

    const enabled = await fedctlOk(['enable', 'limitranges', '--host-cluster-context', 'cluster0'], {
      kubeconfig,
    });
    expect(enabled.stdout + enabled.stderr).toContain('now grants the enabled types');
    const copy = await waitFor(
      'LimitRange minimal-rbac/web in cluster0',
      async () => {
        // Raw JSON from the member: the typed client renames LimitRange's `default` to `_default`.
        const o = await kubeRequest<KubernetesObject & { spec?: unknown }>(hostKc, {
          method: 'GET',
          path: '/api/v1/namespaces/minimal-rbac/limitranges/web',
        }).catch(() => undefined);
        if (o?.metadata?.labels?.['kubefed.io/managed'] === 'true') return o;
        // The last observation says where it stands.
        throw new Error(
          JSON.stringify(
            (await read<Fed>(host, 'types.kubefed.io/v1beta1', 'FederatedLimitRange', 'web', 'minimal-rbac'))
              ?.status,
          ),
        );
      },
      { timeoutMs: 120_000 },
    );
    expect(copy.metadata?.labels?.app).toBe('web');
    expect(copy.spec).toEqual({
      limits: [{ type: 'Container', default: { cpu: '100m' }, defaultRequest: { cpu: '100m' } }],
    });
  });
});

describe('a control plane with KubeFedConfig scope Namespaced', () => {
  const FNS = 'ns-federation';
  type Fed = KubernetesObject & {
    status?: { conditions?: Condition[]; clusters?: Array<{ name: string; status?: string }> };
  };
  const federatedConfigMap = (name: string, namespace: string) =>
    ({
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedConfigMap',
      metadata: { name, namespace },
      spec: { placement: { clusters: [{ name: 'cluster0' }] }, template: { data: { where: namespace } } },
    }) as KubernetesObject;

  it('propagates in its namespace with only a Role in the member, and ignores other namespaces', async () => {
    // One controller per host is enough for this: the cluster-scope one has done its part.
    await controller.stop();
    await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: FNS } });
    // Before the controller first runs (scope is immutable; install keeps an existing config).
    await apply(host, {
      apiVersion: CORE,
      kind: 'KubeFedConfig',
      metadata: { name: 'kubefed', namespace: FNS },
      spec: { scope: 'Namespaced' },
    } as KubernetesObject);
    namespaced = new ControllerProcess(join(work, 'controller-namespaced.log'));
    namespaced.start(
      [
        '--host-cluster-context',
        'cluster0',
        '--kubefed-namespace',
        FNS,
        '--metrics-port',
        '0',
        '--coredns-binary',
        tb.binDir,
      ],
      kubeconfig,
    );
    await waitFor(
      'the FederatedTypeConfigs in ns-federation',
      () => read(host, CORE, 'FederatedTypeConfig', 'configmaps', FNS),
      {
        timeoutMs: 120_000,
      },
    );
    await joinCluster0('--kubefed-namespace', FNS);
    // The member account's only grant in the namespace is a Role (plus /healthz and /version).
    const member = clusterApi(kubeconfig, 'cluster0').api; // the member is the host cluster here
    expect(
      await read(
        member,
        'rbac.authorization.k8s.io/v1',
        'Role',
        'kubefed-controller-manager:cluster0-cluster0',
        FNS,
      ),
    ).toBeDefined();
    const health = await read<
      KubernetesObject & { rules?: Array<{ nonResourceURLs?: string[]; resources?: string[] }> }
    >(
      member,
      'rbac.authorization.k8s.io/v1',
      'ClusterRole',
      `kubefed-controller-manager:${FNS}:healthcheck-cluster0-cluster0`,
    );
    expect(
      health?.rules?.every((r) => r.resources === undefined && (r.nonResourceURLs ?? []).length > 0),
    ).toBe(true);
    await waitFor(
      'KubeFedCluster cluster0 in ns-federation Ready',
      async () =>
        condition(await read<WithConditions>(host, CORE, 'KubeFedCluster', 'cluster0', FNS), 'Ready')
          ?.status === 'True',
      { timeoutMs: 90_000 },
    );

    // Outside the control-plane namespace first, so that once the second one has arrived the first
    // has had its chance.
    await apply(host, federatedConfigMap('elsewhere', 'other-federation'));
    await apply(host, federatedConfigMap('settings', FNS));
    const kc = clusterApi(kubeconfig, 'cluster0').kc;
    const copy = await waitFor(
      'ConfigMap ns-federation/settings in cluster0',
      async () => {
        const o = await kubeRequest<KubernetesObject & { data?: Record<string, string> }>(kc, {
          method: 'GET',
          path: `/api/v1/namespaces/${FNS}/configmaps/settings`,
        }).catch(() => undefined);
        if (o?.metadata?.labels?.['kubefed.io/managed'] === 'true') return o;
        throw new Error(
          JSON.stringify(
            (await read<Fed>(host, 'types.kubefed.io/v1beta1', 'FederatedConfigMap', 'settings', FNS))
              ?.status,
          ),
        );
      },
      { timeoutMs: 120_000 },
    );
    expect(copy.data).toEqual({ where: FNS });
    const settings = await waitFor('FederatedConfigMap settings Propagation True', async () => {
      const f = await read<Fed>(host, 'types.kubefed.io/v1beta1', 'FederatedConfigMap', 'settings', FNS);
      return condition(f, 'Propagation')?.status === 'True' ? f : undefined;
    });
    expect(settings.status?.clusters).toEqual([expect.objectContaining({ name: 'cluster0' })]);
    // Not watched: no copy, no status.
    expect(await read(member, 'v1', 'ConfigMap', 'elsewhere', 'other-federation')).toBeUndefined();
    expect(
      (
        await read<Fed>(
          host,
          'types.kubefed.io/v1beta1',
          'FederatedConfigMap',
          'elsewhere',
          'other-federation',
        )
      )?.status,
    ).toBeUndefined();
    // Cluster-scoped types are not run, and nothing was watched cluster-wide with the Role.
    expect(namespaced.tail(400)).toContain(
      'type not federated: cluster-scoped, and the KubeFedConfig scope is Namespaced',
    );
    // Only propagation's watches are limited: the DNS controller and the shared member caches of
    // DNS and workload status still list cluster-wide in members and are refused under a Role.
    const refusedWatches = namespaced
      .tail(400)
      .split('\n')
      .filter((l) => /"type":"Federated/.test(l) && /forbidden/i.test(l));
    expect(refusedWatches).toEqual([]);
  });
});
