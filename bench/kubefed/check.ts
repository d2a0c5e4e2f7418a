// Proof that KubeFed v0.10.0 runs as a peer on the local testbed: a fresh 3-cluster testbed, KubeFed
// installed and every cluster joined, the chart's CRDs checked as stored unchanged, then 20
// FederatedConfigMaps created, edited, and deleted after a controller-manager restart, each phase
// timed until all 60 member ConfigMaps agree.
// Run: npx node bench/kubefed/check.ts   (builds KubeFed on first use: bench/kubefed/build.sh)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ensureObject } from '../../src/kube/apply.ts';
import {
  CONFIGMAP_REF,
  CRD_REF,
  FEDERATED_DEPLOYMENT_REF,
  NAMESPACE_REF,
  type ResourceRef,
} from '../../src/kube/refs.ts';
import {
  createResource,
  deleteResource,
  getResource,
  listResource,
  patchResource,
} from '../../src/kube/resources.ts';
import {
  apply,
  clusterApi,
  clientNodeKubeConfig as loadKubeConfig,
  read,
} from '../../testbed/harness/kube.ts';
import { describeWrites, MemberWrites, writesBetween } from '../../testbed/harness/metrics.ts';
import { startTestbed } from '../../testbed/harness/testbed.ts';
import { sleep, waitFor } from '../../testbed/harness/wait.ts';
import { percentile, pool } from '../stats.ts';
import { rssBytes } from '../workloads.ts';
import { chartCrds, type KubeFedPeer, startKubeFed } from './peer.ts';

const N = 20;
/** Baseline and KubeFed alternate, round by round, so drift in machine load hits both alike. */
const ROUNDS = 3;
const SETTLE_MS = 30_000;
const DIRECT_NS = 'kubefed-check-direct';
const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'];
const NS = 'kubefed-check';
const CM = CONFIGMAP_REF;
const FCM: ResourceRef = {
  ...FEDERATED_DEPLOYMENT_REF,
  kind: 'FederatedConfigMap',
  plural: 'federatedconfigmaps',
};
const FNS: ResourceRef = { ...FCM, kind: 'FederatedNamespace', plural: 'federatednamespaces' };
const log = (m: string) => process.stderr.write(`[kubefed-check] ${m}\n`);
const results: string[] = [];
const report = (line: string) => {
  results.push(line);
  log(line);
};
const median = (xs: number[]) => percentile(xs, 50);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const work = mkdtempSync(join(tmpdir(), 'fedctl-kubefed-check-'));
let ok = false;
const t0 = performance.now();
const tb = await startTestbed({ clusters: 3, stateDir: join(work, 'testbed') });
report(`testbed up (3 clusters): ${seconds(performance.now() - t0)}`);
const kubeconfig = tb.status.kubeconfig;
let peer: KubeFedPeer | undefined;
try {
  const kc: Record<string, KubeConfig> = Object.fromEntries(
    CLUSTERS.map((c) => [c, loadKubeConfig({ kubeconfig, context: c })]),
  );
  const host = clusterApi(kubeconfig, 'cluster0').api;
  let t = performance.now();
  peer = await startKubeFed({ kubeconfig, hostContext: 'cluster0', clusters: CLUSTERS, workDir: work, log });
  report(
    `KubeFed installed, leading, ${CLUSTERS.length} clusters joined and Ready: ${seconds(performance.now() - t)}`,
  );

  // The chart's CRDs go in without adaptation: the API server must have stored every schema as sent.
  const chart = chartCrds(peer.dir);
  const changed: string[] = [];
  for (const crd of chart) {
    const live = await getResource(kc.cluster0!, CRD_REF, crd.metadata!.name!);
    const schemas = (o: KubernetesObject) =>
      (o as { spec: { versions: Array<{ name: string; schema: unknown }> } }).spec.versions.map((v) => [
        v.name,
        v.schema,
      ]);
    if (!isDeepStrictEqual(schemas(live), schemas(crd))) changed.push(crd.metadata!.name!);
  }
  if (changed.length > 0)
    throw new Error(`the API server stored these CRDs' schemas changed: ${changed.join(', ')}`);
  report(`chart CRDs stored with their schemas unchanged: ${chart.length}/${chart.length}`);

  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  t = performance.now();
  await createResource(kc.cluster0!, FNS, {
    apiVersion: 'types.kubefed.io/v1beta1',
    kind: 'FederatedNamespace',
    metadata: { name: NS, namespace: NS },
    spec: { placement: { clusterSelector: {} } },
  } as KubernetesObject);
  for (const c of CLUSTERS)
    await waitFor(
      `namespace ${NS} in ${c}`,
      () => read(clusterApi(kubeconfig, c).api, 'v1', 'Namespace', NS),
      {
        timeoutMs: 120_000,
      },
    );
  report(`FederatedNamespace → namespace in all 3 clusters: ${seconds(performance.now() - t)}`);

  /** ConfigMaps cm-<i> in `ns` (selected by `selector`) whose data.v is `value(i)`, in cluster `c`. */
  const matching = async (
    c: string,
    ns: string,
    selector: string | undefined,
    value: (i: number) => string,
  ) => {
    const { items } = await listResource(kc[c]!, CM, { namespace: ns, labelSelector: selector });
    return items.filter((o) => {
      const i = Number(o.metadata?.name?.slice(3));
      return (o as { data?: { v?: string } }).data?.v === value(i);
    }).length;
  };
  const everywhereIn =
    (ns: string, selector: string | undefined) => (what: string, value: (i: number) => string, n: number) =>
      waitFor(
        what,
        async () =>
          (await Promise.all(CLUSTERS.map((c) => matching(c, ns, selector, value)))).every((m) => m === n),
        { timeoutMs: 600_000, intervalMs: 200 },
      );
  const everywhere = everywhereIn(NS, 'kubefed.io/managed=true');
  const idx = Array.from({ length: N }, (_, i) => i);
  const cmName = (i: number) => `cm-${i}`;
  const memberWrites = new MemberWrites(kubeconfig, CLUSTERS, { resources: { '': ['configmaps'] } });
  const writesSince = async (before: Map<string, number>) =>
    describeWrites(writesBetween(before, await memberWrites.snapshot()));
  type Phase = 'create' | 'edit' | 'delete';
  const PHASES: Phase[] = ['create', 'edit', 'delete'];
  const samples: Record<'baseline' | 'kubefed', Record<Phase, number[]>> = {
    baseline: { create: [], edit: [], delete: [] },
    kubefed: { create: [], edit: [], delete: [] },
  };
  /** Runs one phase: its writes, then the wait until every cluster shows the result; returns ms. */
  const timedPhase = async (write: () => Promise<void>, settled: () => Promise<unknown>) => {
    const t = performance.now();
    await write();
    await settled();
    return performance.now() - t;
  };

  // Baseline: a plain client makes the same 60 member writes itself, 3 at a time (KubeFed's single
  // sync worker writes one object to the 3 clusters in parallel), observed by the same polling lists.
  const direct = everywhereIn(DIRECT_NS, undefined);
  const jobs = CLUSTERS.flatMap((c) => idx.map((i) => ({ c, i })));
  for (const c of CLUSTERS)
    await ensureObject(kc[c]!, NAMESPACE_REF, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: DIRECT_NS },
    });
  const baselineRound = async (r: number) => {
    const v = (i: number) => `r${r}-v1-${i}`;
    const v2 = (i: number) => `r${r}-v2-${i}`;
    const b = samples.baseline;
    b.create.push(
      await timedPhase(
        () =>
          pool(jobs, 3, ({ c, i }) =>
            createResource(kc[c]!, CM, {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: cmName(i), namespace: DIRECT_NS },
              data: { v: v(i) },
            }),
          ),
        () => direct('baseline ConfigMaps created', v, N),
      ),
    );
    b.edit.push(
      await timedPhase(
        () =>
          pool(jobs, 3, ({ c, i }) =>
            patchResource(kc[c]!, CM, cmName(i), DIRECT_NS, { data: { v: v2(i) } }),
          ),
        () => direct('baseline ConfigMaps updated', v2, N),
      ),
    );
    b.delete.push(
      await timedPhase(
        () => pool(jobs, 3, ({ c, i }) => deleteResource(kc[c]!, CM, cmName(i), DIRECT_NS)),
        () => direct('baseline ConfigMaps deleted', v2, 0),
      ),
    );
  };

  // KubeFed: the user's 20 writes to the host (8 at a time), then the wait for all 60 member objects.
  // In the last round the controller-manager is restarted between edit and delete.
  const kubefedRound = async (r: number, last: boolean) => {
    const v = (i: number) => `r${r}-v1-${i}`;
    const v2 = (i: number) => `r${r}-v2-${i}`;
    const k = samples.kubefed;
    let before = await memberWrites.snapshot();
    k.create.push(
      await timedPhase(
        () =>
          pool(idx, 8, (i) =>
            createResource(kc.cluster0!, FCM, {
              apiVersion: 'types.kubefed.io/v1beta1',
              kind: 'FederatedConfigMap',
              metadata: { name: cmName(i), namespace: NS },
              spec: { template: { data: { v: v(i) } }, placement: { clusterSelector: {} } },
            } as KubernetesObject),
          ),
        () => everywhere(`${N * 3} member ConfigMaps created`, v, N),
      ),
    );
    report(`  round ${r} create, member ConfigMap writes: ${await writesSince(before)}`);
    before = await memberWrites.snapshot();
    k.edit.push(
      await timedPhase(
        () =>
          pool(idx, 8, (i) =>
            patchResource(kc.cluster0!, FCM, cmName(i), NS, { spec: { template: { data: { v: v2(i) } } } }),
          ),
        () => everywhere(`${N * 3} member ConfigMaps updated`, v2, N),
      ),
    );
    report(`  round ${r} edit, member ConfigMap writes: ${await writesSince(before)}`);
    if (last) {
      // With nothing changed, a new process should leave the members alone.
      before = await memberWrites.snapshot();
      const t = performance.now();
      await peer!.restart();
      report(`controller-manager restart until it leads again: ${seconds(performance.now() - t)}`);
      await sleep(SETTLE_MS);
      report(
        `  member ConfigMap writes from the restart to ${SETTLE_MS / 1000} s after it leads: ${await writesSince(before)}`,
      );
    }
    before = await memberWrites.snapshot();
    k.delete.push(
      await timedPhase(
        () => pool(idx, 8, (i) => deleteResource(kc.cluster0!, FCM, cmName(i), NS)),
        async () => {
          await everywhere(`${N * 3} member ConfigMaps deleted`, v2, 0);
          await waitFor(
            'the FederatedConfigMaps gone (finalizer removed)',
            async () => (await listResource(kc.cluster0!, FCM, { namespace: NS })).items.length === 0,
            { timeoutMs: 120_000 },
          );
        },
      ),
    );
    report(`  round ${r} delete, member ConfigMap writes: ${await writesSince(before)}`);
  };

  for (let r = 1; r <= ROUNDS; r++) {
    await baselineRound(r);
    await kubefedRound(r, r === ROUNDS);
  }
  memberWrites.close();
  const spread = (xs: number[]) =>
    `median ${seconds(median(xs))} (${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`;
  for (const phase of PHASES) {
    const b = samples.baseline[phase];
    const k = samples.kubefed[phase];
    const ratios = k.map((x, i) => x / b[i]!);
    report(
      `${phase} ${N} federated objects → ${N * 3} member ConfigMaps: KubeFed ${spread(k)}; plain client ${spread(b)}; ratio median ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    );
  }

  report(
    `controller-manager RSS after the run: ${(rssBytes(peer.pid) / 2 ** 20).toFixed(0)} MiB (pid ${peer.pid})`,
  );
  ok = true;
} catch (e) {
  log(`FAILED: ${(e as Error).stack ?? e}`);
  if (peer) log(`--- controller-manager log tail ---\n${peer.logTail(60)}`);
  log(`--- testbed ---\n${await tb.diagnostics()}`);
} finally {
  await peer?.stop();
  await tb.down();
  if (ok) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work} for inspection`);
}
console.log(results.join('\n'));
process.exitCode = ok ? 0 : 1;
