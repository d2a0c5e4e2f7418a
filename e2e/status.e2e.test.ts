import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FederatedStatus } from '../src/api/types.ts';
import { kubeFetch } from '../src/kube/transport.ts';
import { fedctlOk } from '../testbed/harness/fedctl.ts';
import { type Federation, startFederation } from '../testbed/harness/federation.ts';
import { apply, clusterApi, read } from '../testbed/harness/kube.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';

// What a user sees of a workload across clusters: a FederatedDeployment in three clusters, one of
// which cannot run its pods (an override with a nodeSelector no kwok node carries). The federated
// object's status, `kubectl get`'s printer columns (read as the API server's Table, the form kubectl
// asks for), `fedctl status`, `fedctl get clusters` and the Events all say so, and recover when the
// override is removed. Along the way: status writes per minute during a rollout, none in steady
// state, FederatedTypeConfig status, and remote status collection.

const TYPES = 'types.kubefed.io/v1beta1';
const NS = 'shop';
const FTC_NS = 'kube-federation-system';
let fed: Federation;
let kubeconfig: string;
let host: KubernetesObjectApi;
let failed = false;
const log = (m: string) => process.stderr.write(`[status e2e] ${m}\n`);

type Fed = KubernetesObject & { spec: Record<string, unknown>; status?: FederatedStatus };

const unschedulable = {
  clusterName: 'cluster2',
  clusterOverrides: [{ path: '/spec/template/spec/nodeSelector', value: { 'fedctl.io/no-such-node': 'x' } }],
};

function web(overrides: unknown[], image = 'nginx'): Fed {
  return {
    apiVersion: TYPES,
    kind: 'FederatedDeployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          replicas: 2,
          // Short, so the unschedulable cluster turns into a failure (and an Event) within the test.
          progressDeadlineSeconds: 10,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image }] },
          },
        },
      },
      placement: { clusters: [{ name: 'cluster0' }, { name: 'cluster1' }, { name: 'cluster2' }] },
      overrides,
    },
  };
}

const status = async () => (await read<Fed>(host, TYPES, 'FederatedDeployment', 'web', NS))?.status;

const statusWrites = () =>
  waitFor('controller metrics', () =>
    fed.controller.metric('fedctl_status_writes_total', 'type="FederatedDeployment"'),
  );
const memberWrites = () =>
  waitFor('controller metrics', () => fed.controller.metric('fedctl_member_writes_total'));

/** `kubectl get federateddeployments -n shop`: the CRD's printer columns, computed by the API server. */
async function printerColumns(): Promise<Record<string, string>> {
  const { kc } = clusterApi(kubeconfig, 'cluster0');
  const res = await kubeFetch(kc, {
    method: 'GET',
    path: `/apis/types.kubefed.io/v1beta1/namespaces/${NS}/federateddeployments`,
    accept: 'application/json;as=Table;g=meta.k8s.io;v=v1',
  });
  const table = JSON.parse(await res.text()) as {
    kind: string;
    columnDefinitions: Array<{ name: string }>;
    rows: Array<{ cells: unknown[] }>;
  };
  expect(table.kind).toBe('Table');
  const row = table.rows[0]?.cells ?? [];
  return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, String(row[i] ?? '')]));
}

async function events(): Promise<Array<{ type: string; reason: string; message: string; count?: number }>> {
  const { kc } = clusterApi(kubeconfig, 'cluster0');
  const res = await kubeFetch(kc, {
    method: 'GET',
    path: `/api/v1/namespaces/${NS}/events`,
    query: { fieldSelector: 'involvedObject.kind=FederatedDeployment,involvedObject.name=web' },
  });
  return (JSON.parse(await res.text()) as { items: Array<{ type: string; reason: string; message: string }> })
    .items;
}

beforeAll(async () => {
  fed = await startFederation({ name: 'status' });
  ({ kubeconfig, host } = fed);
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await apply(host, {
    apiVersion: TYPES,
    kind: 'FederatedNamespace',
    metadata: { name: NS, namespace: NS },
    spec: { placement: { clusterSelector: {} } },
  } as KubernetesObject);
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  await fed?.stop(failed);
}, 300_000);

describe('workload status across clusters', () => {
  it('shows per-cluster readiness and totals when one cluster cannot run the pods', async () => {
    await apply(host, web([unschedulable]));
    const s = await waitFor(
      'cluster0 and cluster1 ready, cluster2 not',
      async () => {
        const st = await status();
        return st?.readyClusters === '2/3' && st.ready === '4/6' ? st : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const byName = Object.fromEntries((s.clusters ?? []).map((c) => [c.name, c]));
    expect(byName.cluster0?.workload).toMatchObject({ desired: 2, ready: 2, available: 2, healthy: true });
    expect(byName.cluster2?.workload).toMatchObject({ desired: 2, ready: 0, healthy: false });
    expect(byName.cluster2?.status).toBeUndefined(); // propagated fine: the workload is what fails
    expect(s.totals).toMatchObject({ clusters: 3, readyClusters: 2, desired: 6, ready: 4 });
    expect(s.conditions?.find((c) => c.type === 'Propagation')?.status).toBe('True');

    const columns = await printerColumns();
    expect(columns).toMatchObject({ Name: 'web', Ready: '4/6', Clusters: '2/3', Propagation: 'True' });

    const cli = await fedctlOk(
      ['status', 'FederatedDeployment', 'web', '-n', NS, '--host-cluster-context', 'cluster0'],
      {
        kubeconfig,
      },
    );
    log(`fedctl status:\n${cli.stdout}`);
    expect(cli.stdout).toMatch(/^cluster0\s+OK\s+2\/2\s+\S+\s*$/m);
    expect(cli.stdout).toMatch(/^cluster2\s+OK\s+0\/2\s+\S+\s+\S/m);
    expect(cli.stdout).toMatch(/^TOTAL\s+2\/3 clusters ready\s+4\/6/m);
    const json = JSON.parse(
      (
        await fedctlOk(
          [
            'status',
            'FederatedDeployment',
            'web',
            '-n',
            NS,
            '--host-cluster-context',
            'cluster0',
            '-o',
            'json',
          ],
          { kubeconfig },
        )
      ).stdout,
    ) as { readyClusters: string; clusters: Array<{ cluster: string; ready: string; healthy: boolean }> };
    expect(json.readyClusters).toBe('2/3');
    expect(json.clusters.find((c) => c.cluster === 'cluster2')).toMatchObject({
      ready: '0/2',
      healthy: false,
    });

    const clusters = await fedctlOk(['get', 'clusters', '--host-cluster-context', 'cluster0'], {
      kubeconfig,
    });
    log(`fedctl get clusters:\n${clusters.stdout}`);
    // cluster2 holds the FederatedNamespace and the FederatedDeployment; the Deployment fails there.
    expect(clusters.stdout).toMatch(/^cluster2\s.*\s2\s+1$/m);
    expect(clusters.stdout).toMatch(/^cluster0\s.*\s2\s+0$/m);
  });

  it('records the failure as one Event on the federated object', async () => {
    const failure = await waitFor(
      'a WorkloadFailed event for cluster2 (progress deadline exceeded)',
      async () =>
        (await events()).find((e) => e.reason === 'WorkloadFailed' && e.message.includes('cluster2')),
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(failure).toMatchObject({ type: 'Warning' });
    expect(failure.message).toContain('ProgressDeadlineExceeded');
    const s = await status();
    expect(s?.clusters?.find((c) => c.name === 'cluster2')?.workload?.reason).toBe(
      'ProgressDeadlineExceeded',
    );
    // The failure lasts; nothing repeats it.
    await sleep(5000);
    expect((await events()).filter((e) => e.reason === 'WorkloadFailed')).toHaveLength(1);
  });

  it('recovers when the override is removed', async () => {
    await apply(host, web([]));
    await waitFor(
      'every cluster ready',
      async () => {
        const st = await status();
        return st?.readyClusters === '3/3' && st.ready === '6/6';
      },
      { timeoutMs: 120_000 },
    );
    expect(await printerColumns()).toMatchObject({ Ready: '6/6', Clusters: '3/3' });
    await waitFor('a WorkloadRecovered event', async () =>
      (await events()).find((e) => e.reason === 'WorkloadRecovered' && e.type === 'Normal'),
    );
  });

  it('writes status at most every 5 s per object during a rollout, and never in steady state', async () => {
    const before = await statusWrites();
    const live = (await read<Fed>(host, TYPES, 'FederatedDeployment', 'web', NS))!;
    const started = Date.now();
    await apply(host, web([], 'nginx:1.27'));
    await waitFor(
      'the rollout to finish in every cluster',
      async () => {
        const st = await status();
        return (
          st?.observedGeneration === (live.metadata?.generation ?? 0) + 1 &&
          st.readyClusters === '3/3' &&
          (st.clusters ?? []).every((c) => c.workload?.healthy && c.workload.updated === 2)
        );
      },
      { timeoutMs: 120_000 },
    );
    const minutes = (Date.now() - started) / 60_000;
    const writes = (await statusWrites()) - before;
    log(
      `rollout of 1 FederatedDeployment (2 replicas × 3 clusters): ${writes} status writes in ${(minutes * 60).toFixed(1)} s = ${(writes / minutes).toFixed(1)} writes/min`,
    );
    // One propagation write (new generation, new versions) plus at most one per 5 s interval.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(2 + Math.ceil((minutes * 60) / 5));

    // Steady state: give the last deferred write time to land, then nothing for 20 s.
    await sleep(6000);
    const [s0, m0] = [await statusWrites(), await memberWrites()];
    await sleep(20_000);
    const [s1, m1] = [await statusWrites(), await memberWrites()];
    log(`steady state: ${s1 - s0} status writes, ${m1 - m0} writes in 20 s`);
    expect(s1 - s0).toBe(0);
    expect(m1 - m0).toBe(0);
  });
});

describe('FederatedTypeConfig status and remote status collection', () => {
  it('writes observedGeneration and propagationController Running on the type config', async () => {
    const ftc = await waitFor('deployments.apps status', async () => {
      const o = await read<KubernetesObject & { status?: Record<string, unknown> }>(
        host,
        'core.kubefed.io/v1beta1',
        'FederatedTypeConfig',
        'deployments.apps',
        FTC_NS,
      );
      return o?.status?.propagationController === 'Running' ? o : undefined;
    });
    expect(ftc.status).toEqual({
      observedGeneration: ftc.metadata?.generation,
      propagationController: 'Running',
      statusController: 'NotRunning',
    });
  });

  it('with statusCollection Enabled copies each member’s status into remoteStatus', async () => {
    const ftc = (await read<KubernetesObject & { spec: Record<string, unknown> }>(
      host,
      'core.kubefed.io/v1beta1',
      'FederatedTypeConfig',
      'deployments.apps',
      FTC_NS,
    ))!;
    await apply(host, {
      apiVersion: ftc.apiVersion,
      kind: ftc.kind,
      metadata: { name: ftc.metadata?.name, namespace: FTC_NS },
      spec: { ...ftc.spec, statusCollection: 'Enabled' },
    } as KubernetesObject);
    const s = await waitFor(
      'remoteStatus in every cluster',
      async () => {
        const st = await status();
        return st?.clusters?.length === 3 && st.clusters.every((c) => c.remoteStatus !== undefined)
          ? st
          : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(s.clusters?.[0]?.remoteStatus).toMatchObject({ readyReplicas: 2, replicas: 2 });
    await waitFor('statusController Running', async () => {
      const o = await read<KubernetesObject & { status?: Record<string, unknown> }>(
        host,
        'core.kubefed.io/v1beta1',
        'FederatedTypeConfig',
        'deployments.apps',
        FTC_NS,
      );
      return (
        o?.status?.statusController === 'Running' && o.status.observedGeneration === o.metadata?.generation
      );
    });
  });
});
