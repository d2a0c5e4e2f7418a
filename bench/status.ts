// Status writes during a rollout: N FederatedDeployments (default 100) on a fresh 3-cluster testbed,
// every template's image changed at once, measured until every member has rolled out and reports
// ready. Not part of `make test`: run `npm run bench:status` (BENCH_OBJECTS=… to change N).
//
//   status writes/min   the controller's own count of status writes to federated objects
//                       (fedctl_status_writes_total) over the rollout
//   baseline            member Deployment status changes seen by a watch in the same window: what a
//                       controller writing the federated status on every member change would send
//   steady state        status writes and member writes in 60 s after the rollout (must be 0)
import { Watch } from '@kubernetes/client-node';
import type { FederatedStatus } from '../src/api/types.ts';
import { FEDERATED_DEPLOYMENT_REF } from '../src/kube/refs.ts';
import { listResource } from '../src/kube/resources.ts';
import { fedctlOk } from '../testbed/harness/fedctl.ts';
import { startFederation } from '../testbed/harness/federation.ts';
import { apply, clusterApi } from '../testbed/harness/kube.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';
import { pool } from './stats.ts';

const N = Number(process.env.BENCH_OBJECTS ?? 100);
const NS = 'bench-status';
const TYPES = 'types.kubefed.io/v1beta1';
const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'];
const log = (m: string) => process.stderr.write(`[bench:status] ${m}\n`);

const fedDeployment = (i: number, image: string) => ({
  apiVersion: TYPES,
  kind: 'FederatedDeployment',
  metadata: { name: `web-${i}`, namespace: NS },
  spec: {
    template: {
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: `web-${i}` } },
        template: {
          metadata: { labels: { app: `web-${i}` } },
          spec: { containers: [{ name: 'web', image }] },
        },
      },
    },
    placement: { clusterSelector: {} },
  },
});

const fed = await startFederation({ name: 'bench-status' });
const { kubeconfig, host } = fed;
let failed = true;
try {
  const statusWrites = () =>
    waitFor('controller metrics', () =>
      fed.controller.metric('fedctl_status_writes_total', 'type="FederatedDeployment"'),
    );
  const memberWrites = () =>
    waitFor('controller metrics', () => fed.controller.metric('fedctl_member_writes_total'));
  const hostKc = clusterApi(kubeconfig, 'cluster0').kc;
  const allReady = async (image: string) => {
    const items = (
      await listResource<{ metadata?: object; status?: FederatedStatus } & never>(
        hostKc,
        FEDERATED_DEPLOYMENT_REF,
        {
          namespace: NS,
        },
      )
    ).items as Array<{
      spec?: { template?: { spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } } };
      metadata?: { generation?: number };
      status?: FederatedStatus;
    }>;
    return (
      items.length === N &&
      items.every(
        (o) =>
          o.spec?.template?.spec?.template?.spec?.containers?.[0]?.image === image &&
          o.status?.observedGeneration === o.metadata?.generation &&
          o.status?.readyClusters === '3/3' &&
          (o.status?.clusters ?? []).every((c) => c.workload?.updated === 2),
      )
    );
  };

  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await apply(host, {
    apiVersion: TYPES,
    kind: 'FederatedNamespace',
    metadata: { name: NS, namespace: NS },
    spec: { placement: { clusterSelector: {} } },
  } as never);
  const t0 = performance.now();
  await pool(
    Array.from({ length: N }, (_, i) => i),
    16,
    (i) => apply(host, fedDeployment(i, 'nginx:1') as never),
  );
  await waitFor('every object ready in 3 clusters', () => allReady('nginx:1'), {
    timeoutMs: 900_000,
    intervalMs: 2000,
  });
  log(`${N} FederatedDeployments created and ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(6000); // let deferred writes land

  // Baseline: every member status change a naive controller would forward.
  let memberChanges = 0;
  const watches = await Promise.all(
    CLUSTERS.map((c) =>
      new Watch(clusterApi(kubeconfig, c).kc).watch(
        `/apis/apps/v1/namespaces/${NS}/deployments`,
        { resourceVersion: '0' },
        (type) => {
          if (type === 'MODIFIED') memberChanges++;
        },
        () => undefined,
      ),
    ),
  );
  await sleep(2000);
  memberChanges = 0; // the initial list replays ADDED only, but be sure nothing counts from before
  const before = await statusWrites();
  const started = performance.now();
  await pool(
    Array.from({ length: N }, (_, i) => i),
    16,
    (i) => apply(host, fedDeployment(i, 'nginx:2') as never),
  );
  await waitFor('the rollout to finish everywhere', () => allReady('nginx:2'), {
    timeoutMs: 900_000,
    intervalMs: 1000,
  });
  const seconds = (performance.now() - started) / 1000;
  const writes = (await statusWrites()) - before;
  for (const w of watches) w.abort();
  const perMin = (writes / seconds) * 60;
  log(`rollout of ${N} FederatedDeployments × 3 clusters × 2 replicas took ${seconds.toFixed(1)} s`);
  log(`status writes: ${writes} (${perMin.toFixed(0)}/min, ${(writes / N).toFixed(1)} per object)`);
  log(
    `baseline (member status changes in the window): ${memberChanges} (${((memberChanges / seconds) * 60).toFixed(0)}/min); ratio ${(writes / Math.max(1, memberChanges)).toFixed(2)}x`,
  );

  await sleep(6000);
  const [s0, m0] = [await statusWrites(), await memberWrites()];
  await sleep(60_000);
  const [s1, m1] = [await statusWrites(), await memberWrites()];
  log(`steady state, 60 s: ${s1 - s0} status writes, ${m1 - m0} controller writes`);
  const clusters = await fedctlOk(['get', 'clusters', '--host-cluster-context', 'cluster0'], { kubeconfig });
  process.stdout.write(clusters.stdout);
  failed = false;
} finally {
  await fed.stop(failed);
}
