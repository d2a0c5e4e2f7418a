// Proof that KubeFed v0.10.0 runs as a peer on the local testbed: a fresh 3-cluster testbed, KubeFed
// installed and every cluster joined, the chart's CRDs checked as stored unchanged, then 20
// FederatedConfigMaps created, edited, and deleted after a controller-manager restart, each phase
// timed until all 60 member ConfigMaps agree.
// Run: npx node bench/kubefed/check.ts   (builds KubeFed on first use: bench/kubefed/build.sh)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CRD_REF, ensureObject } from '../../src/kube/apply.ts';
import { loadKubeConfig } from '../../src/kube/clients.ts';
import {
  createResource,
  deleteResource,
  getResource,
  listResource,
  patchResource,
  type ResourceRef,
} from '../../src/kube/resources.ts';
import { apply, clusterApi, read } from '../../testbed/harness/kube.ts';
import { describeWrites, MemberWrites, writesBetween } from '../../testbed/harness/metrics.ts';
import { startTestbed } from '../../testbed/harness/testbed.ts';
import { sleep, waitFor } from '../../testbed/harness/wait.ts';
import { pool } from '../stats.ts';
import { NAMESPACE_REF } from './chart.ts';
import { chartCrds, type KubeFedPeer, startKubeFed } from './peer.ts';

const N = 20;
const SETTLE_MS = 30_000;
const DIRECT_NS = 'kubefed-check-direct';
const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'];
const NS = 'kubefed-check';
const CM: ResourceRef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
const FCM: ResourceRef = {
  group: 'types.kubefed.io',
  version: 'v1beta1',
  kind: 'FederatedConfigMap',
  plural: 'federatedconfigmaps',
  namespaced: true,
};
const FNS: ResourceRef = { ...FCM, kind: 'FederatedNamespace', plural: 'federatednamespaces' };
const log = (m: string) => process.stderr.write(`[kubefed-check] ${m}\n`);
const results: string[] = [];
const report = (line: string) => {
  results.push(line);
  log(line);
};
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

  // ---- baseline: a plain client makes the same 60 member writes itself, 3 at a time (KubeFed's one
  // sync worker writes to the 3 clusters in parallel), observed by the same polling lists.
  const direct = everywhereIn(DIRECT_NS, undefined);
  const jobs = CLUSTERS.flatMap((c) => idx.map((i) => ({ c, i })));
  for (const c of CLUSTERS)
    await ensureObject(kc[c]!, NAMESPACE_REF, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: DIRECT_NS },
    });
  const baseline: Record<string, number> = {};
  t = performance.now();
  await pool(jobs, 3, ({ c, i }) =>
    createResource(kc[c]!, CM, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: cmName(i), namespace: DIRECT_NS },
      data: { v: `v1-${i}` },
    }),
  );
  await direct('baseline ConfigMaps created', (i) => `v1-${i}`, N);
  baseline.create = performance.now() - t;
  t = performance.now();
  await pool(jobs, 3, ({ c, i }) =>
    patchResource(kc[c]!, CM, cmName(i), DIRECT_NS, { data: { v: `v2-${i}` } }),
  );
  await direct('baseline ConfigMaps updated', (i) => `v2-${i}`, N);
  baseline.edit = performance.now() - t;
  t = performance.now();
  await pool(jobs, 3, ({ c, i }) => deleteResource(kc[c]!, CM, cmName(i), DIRECT_NS));
  await direct('baseline ConfigMaps deleted', (i) => `v2-${i}`, 0);
  baseline.delete = performance.now() - t;
  report(
    `baseline, a plain client writing the ${N * 3} member ConfigMaps (concurrency 3): create ${seconds(baseline.create)}, edit ${seconds(baseline.edit)}, delete ${seconds(baseline.delete)}`,
  );
  const vsBaseline = (phase: string, ms: number) =>
    `${seconds(ms)} (${(ms / baseline[phase]!).toFixed(1)}x the baseline)`;

  const memberWrites = new MemberWrites(kubeconfig, CLUSTERS, { resources: { '': ['configmaps'] } });

  // ---- create
  let before = await memberWrites.snapshot();
  t = performance.now();
  await pool(idx, 8, (i) =>
    createResource(kc.cluster0!, FCM, {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedConfigMap',
      metadata: { name: `cm-${i}`, namespace: NS },
      spec: { template: { data: { v: `v1-${i}` } }, placement: { clusterSelector: {} } },
    } as KubernetesObject),
  );
  await everywhere(`${N * 3} member ConfigMaps created`, (i) => `v1-${i}`, N);
  report(
    `create ${N} FederatedConfigMaps → ${N * 3} member ConfigMaps matching: ${vsBaseline('create', performance.now() - t)}`,
  );
  report(
    `  member ConfigMap writes: ${describeWrites(writesBetween(before, await memberWrites.snapshot()))}`,
  );

  // ---- edit
  before = await memberWrites.snapshot();
  t = performance.now();
  await pool(idx, 8, (i) =>
    patchResource(kc.cluster0!, FCM, `cm-${i}`, NS, { spec: { template: { data: { v: `v2-${i}` } } } }),
  );
  await everywhere(`${N * 3} member ConfigMaps updated`, (i) => `v2-${i}`, N);
  report(
    `edit ${N} templates → ${N * 3} member ConfigMaps updated: ${vsBaseline('edit', performance.now() - t)}`,
  );
  report(
    `  member ConfigMap writes: ${describeWrites(writesBetween(before, await memberWrites.snapshot()))}`,
  );

  // ---- restart: with nothing changed, a new process should leave the members alone
  before = await memberWrites.snapshot();
  t = performance.now();
  await peer.restart();
  report(`controller-manager restart until it leads again: ${seconds(performance.now() - t)}`);
  await sleep(SETTLE_MS);
  report(
    `  member ConfigMap writes from the restart to ${SETTLE_MS / 1000} s after it leads: ${describeWrites(writesBetween(before, await memberWrites.snapshot()))}`,
  );

  // ---- delete (by the restarted process)
  before = await memberWrites.snapshot();
  t = performance.now();
  await pool(idx, 8, (i) => deleteResource(kc.cluster0!, FCM, `cm-${i}`, NS));
  await waitFor(
    `${N * 3} member ConfigMaps deleted`,
    async () =>
      (
        await Promise.all(CLUSTERS.map((c) => matching(c, NS, 'kubefed.io/managed=true', (i) => `v2-${i}`)))
      ).every((m) => m === 0),
    { timeoutMs: 600_000, intervalMs: 200 },
  );
  await waitFor(
    'the FederatedConfigMaps gone (finalizer removed)',
    async () => (await listResource(kc.cluster0!, FCM, { namespace: NS })).items.length === 0,
    { timeoutMs: 120_000 },
  );
  report(
    `delete ${N} FederatedConfigMaps → member ConfigMaps gone: ${vsBaseline('delete', performance.now() - t)}`,
  );
  report(
    `  member ConfigMap writes: ${describeWrites(writesBetween(before, await memberWrites.snapshot()))}`,
  );
  memberWrites.close();

  const rss = readFileSync(`/proc/${peer.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1];
  report(`controller-manager RSS after the run: ${(Number(rss) / 1024).toFixed(0)} MiB (pid ${peer.pid})`);
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
