// fedctl benchmarks on a fresh 3-cluster local testbed. Every figure is compared with a baseline
// measured in the same run on the same clusters. Not part of `make test`: run `make bench`.
//
//   propagation   1000 FederatedConfigMaps → 3000 member objects matching, vs. a plain client
//                 creating the same 3000 ConfigMaps directly with the same concurrency
//   latency       apply one FederatedDeployment → present in every member (p50/p99)
//   steady state  writes the controller sends in 60 s with nothing changing (three resyncs included)
//   memory        controller RSS with everything above cached
//   dns           create a ServiceDNSRecord → name resolves from every other cluster, vs. writing the
//                 same forward block into the Corefile by hand (the sync + reload floor)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/kube/clients.ts';
import {
  CONFIGMAP_REF,
  DEPLOYMENT_REF,
  FEDERATED_CONFIGMAP_REF,
  FEDERATED_DEPLOYMENT_REF,
} from '../src/kube/refs.ts';
import { createResource, listResource, tryGetResource } from '../src/kube/resources.ts';
import { ControllerProcess, fedctlOk } from '../testbed/harness/fedctl.ts';
import { apply, clusterApi, mergePatch, read, remove } from '../testbed/harness/kube.ts';
import { MemberWrites, totalOf, writesBetween } from '../testbed/harness/metrics.ts';
import { startTestbed } from '../testbed/harness/testbed.ts';
import { waitFor } from '../testbed/harness/wait.ts';
import { resolveA } from '../testbed/index.ts';
import { percentile, pool } from './stats.ts';

const N = Number(process.env.BENCH_OBJECTS ?? 1000);
const CONCURRENCY = 24; // the controller's 8 workers each write to 3 clusters at once
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 40);
const STEADY_MS = 60_000;
const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'];
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const results: Array<[string, string]> = [];
const report = (name: string, value: string) => {
  results.push([name, value]);
  log(`${name}: ${value}`);
};

const work = mkdtempSync(join(tmpdir(), 'fedctl-bench-'));
const tb = await startTestbed({ clusters: 3, stateDir: join(work, 'testbed') });
const kubeconfig = tb.status.kubeconfig;
const controller = new ControllerProcess(join(work, 'controller.log'));
try {
  const kc: Record<string, KubeConfig> = Object.fromEntries(
    CLUSTERS.map((c) => [c, loadKubeConfig({ kubeconfig, context: c })]),
  );
  const host = clusterApi(kubeconfig, 'cluster0').api;
  controller.start(
    [
      '--host-cluster-context',
      'cluster0',
      '--metrics-port',
      '0',
      '--resync',
      '20',
      '--coredns-binary',
      tb.binDir,
    ],
    kubeconfig,
  );
  await waitFor(
    'CRDs installed',
    () =>
      read(
        host,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        'federatedconfigmaps.types.kubefed.io',
      ),
    { timeoutMs: 60_000 },
  );
  for (const c of CLUSTERS)
    await fedctlOk(['join', c, '--cluster-context', c, '--host-cluster-context', 'cluster0'], { kubeconfig });

  // ---- baseline: a plain client writes the 3000 objects itself
  for (const c of CLUSTERS)
    await apply(clusterApi(kubeconfig, c).api, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'bench-direct' },
    });
  const jobs = CLUSTERS.flatMap((c) => Array.from({ length: N }, (_, i) => ({ c, i })));
  let t = performance.now();
  await pool(jobs, CONCURRENCY, ({ c, i }) =>
    createResource(kc[c]!, CONFIGMAP_REF, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: 'bench-direct' },
      data: { v: `v-${i}` },
    }),
  );
  const direct = performance.now() - t;
  report(
    `direct: create ${jobs.length} ConfigMaps (concurrency ${CONCURRENCY})`,
    `${(direct / 1000).toFixed(2)} s`,
  );

  // ---- fedctl: 1000 FederatedConfigMaps in the host until 3000 member objects match
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-fed' } });
  await apply(host, {
    apiVersion: 'types.kubefed.io/v1beta1',
    kind: 'FederatedNamespace',
    metadata: { name: 'bench-fed', namespace: 'bench-fed' },
    spec: { placement: { clusterSelector: {} } },
  } as KubernetesObject);
  for (const c of CLUSTERS)
    await waitFor(`namespace bench-fed in ${c}`, () =>
      read(clusterApi(kubeconfig, c).api, 'v1', 'Namespace', 'bench-fed'),
    );
  const matching = async (c: string) => {
    const { items } = await listResource(kc[c]!, CONFIGMAP_REF, {
      namespace: 'bench-fed',
      labelSelector: 'kubefed.io/managed=true',
    });
    return items.filter((o) => (o as { data?: { v?: string } }).data?.v === `v-${o.metadata?.name?.slice(3)}`)
      .length;
  };
  // Writes as the API servers count them (never fedctl's own counters): members' ConfigMaps, and the
  // host's FederatedConfigMaps including their status subresource.
  const memberWrites = new MemberWrites(kubeconfig, CLUSTERS, { resources: { '': ['configmaps'] } });
  const hostWrites = new MemberWrites(kubeconfig, ['cluster0'], {
    resources: { 'types.kubefed.io': ['federatedconfigmaps'] },
    subresources: true,
  });
  const [memberBefore, hostBefore] = await Promise.all([memberWrites.snapshot(), hostWrites.snapshot()]);
  t = performance.now();
  await pool(
    Array.from({ length: N }, (_, i) => i),
    CONCURRENCY,
    (i) =>
      createResource(kc.cluster0!, FEDERATED_CONFIGMAP_REF, {
        apiVersion: 'types.kubefed.io/v1beta1',
        kind: 'FederatedConfigMap',
        metadata: { name: `cm-${i}`, namespace: 'bench-fed' },
        spec: { template: { data: { v: `v-${i}` } }, placement: { clusterSelector: {} } },
      } as KubernetesObject),
  );
  await waitFor(
    '3000 member ConfigMaps to match',
    async () => (await Promise.all(CLUSTERS.map(matching))).every((n) => n === N),
    { timeoutMs: 900_000, intervalMs: 200 },
  );
  const federated = performance.now() - t;
  report(
    `fedctl: ${N} FederatedConfigMaps → ${N * 3} member objects matching`,
    `${(federated / 1000).toFixed(2)} s`,
  );
  report('propagation ratio (fedctl / direct)', `${(federated / direct).toFixed(2)}x`);
  // Let the last status writes land before counting.
  await new Promise((r) => setTimeout(r, 5000));
  const [memberAfter, hostAfter] = await Promise.all([memberWrites.snapshot(), hostWrites.snapshot()]);
  const perObject = (n: number) => (n / N).toFixed(2);
  report(
    'writes per federated object during the bulk create, from the API servers (member ConfigMaps / host, the user’s create included)',
    `${perObject(totalOf(writesBetween(memberBefore, memberAfter)))} / ${perObject(totalOf(writesBetween(hostBefore, hostAfter)))}`,
  );

  // ---- latency of one FederatedDeployment to every member, vs. a plain client writing the same
  // Deployment into the three members itself; both observed by the same polling reads.
  const deployment = (name: string) => ({
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  });
  const inEveryMember = (name: string, namespace: string) =>
    Promise.all(
      CLUSTERS.map((c) =>
        waitFor(`${name} in ${c}`, () => tryGetResource(kc[c]!, DEPLOYMENT_REF, name, namespace), {
          intervalMs: 5,
          timeoutMs: 60_000,
        }),
      ),
    );
  const latencies: number[] = [];
  const directLatencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    let start = performance.now();
    await Promise.all(
      CLUSTERS.map((c) =>
        createResource(kc[c]!, DEPLOYMENT_REF, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `lat-${i}`, namespace: 'bench-direct' },
          spec: deployment(`lat-${i}`),
        } as KubernetesObject),
      ),
    );
    await inEveryMember(`lat-${i}`, 'bench-direct');
    directLatencies.push(performance.now() - start);
    start = performance.now();
    await createResource(kc.cluster0!, FEDERATED_DEPLOYMENT_REF, {
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedDeployment',
      metadata: { name: `lat-${i}`, namespace: 'bench-fed' },
      spec: { template: { spec: deployment(`lat-${i}`) }, placement: { clusterSelector: {} } },
    } as KubernetesObject);
    await inEveryMember(`lat-${i}`, 'bench-fed');
    latencies.push(performance.now() - start);
  }
  const pct = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(0)} ms, p99 ${percentile(xs, 99).toFixed(0)} ms`;
  report(
    `latency: FederatedDeployment created → in every member (${LATENCY_SAMPLES} samples)`,
    pct(latencies),
  );
  report(
    'latency: plain client writes the Deployment to all three → seen in every member',
    pct(directLatencies),
  );
  report(
    'latency ratio at p50 (fedctl / direct)',
    `${(percentile(latencies, 50) / percentile(directLatencies, 50)).toFixed(2)}x`,
  );

  // ---- steady state
  const port = await waitFor(
    'metrics address',
    () => controller.tail(100000).match(/serving \/healthz[^\n]*127\.0\.0\.1:(\d+)/)?.[1],
  );
  const writes = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('fedctl_member_writes_total'))
      .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  await waitFor(
    'the controller to go quiet',
    async () => {
      const a = await writes();
      await new Promise((r) => setTimeout(r, 5000));
      return a === (await writes());
    },
    { timeoutMs: 300_000 },
  );
  const before = await writes();
  const allMemberWrites = new MemberWrites(kubeconfig, CLUSTERS); // every federated resource kind
  const steadyBefore = await Promise.all([allMemberWrites.snapshot(), hostWrites.snapshot()]);
  await new Promise((r) => setTimeout(r, STEADY_MS));
  const steadyAfter = await Promise.all([allMemberWrites.snapshot(), hostWrites.snapshot()]);
  report(
    `writes in ${STEADY_MS / 1000} s of steady state (resync every 20 s, ${N + LATENCY_SAMPLES + 1} federated objects): fedctl's counter / member API servers / host API server`,
    `${(await writes()) - before} / ${totalOf(writesBetween(steadyBefore[0], steadyAfter[0]))} / ${totalOf(writesBetween(steadyBefore[1], steadyAfter[1]))}`,
  );
  for (const w of [memberWrites, allMemberWrites, hostWrites]) w.close();
  const rss = readFileSync(`/proc/${controller.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)?.[1];
  report(
    `controller RSS with ${N + LATENCY_SAMPLES + 1} federated and ${3 * (N + LATENCY_SAMPLES + 1)} member objects cached`,
    `${(Number(rss) / 1024).toFixed(0)} MiB`,
  );
  const heapUsed = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).match(
    /^nodejs_heap_used_bytes (\S+)/m,
  )?.[1];
  report('controller V8 heap in use (same moment)', `${(Number(heapUsed) / 2 ** 20).toFixed(0)} MiB`);

  // ---- DNS: record → name resolves from every other cluster, vs. the same block written by hand
  const dnsOf = (c: string) => tb.status.clusters.find((x) => x.name === c)!.dns;
  const c1 = clusterApi(kubeconfig, 'cluster1').api;
  await apply(host, {
    apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
    kind: 'Domain',
    metadata: { name: 'fed', namespace: 'kube-federation-system' },
    domain: 'example.org',
  } as KubernetesObject);
  await apply(c1, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dnsbench' } });
  await apply(c1, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'peer', namespace: 'dnsbench' },
    spec: {
      clusterIP: 'None',
      selector: { app: 'peer' },
      ports: [{ port: 80 }],
      publishNotReadyAddresses: true,
    },
  } as KubernetesObject);
  await apply(c1, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'dnsbench', labels: { app: 'peer' } },
    spec: { hostname: 'p', subdomain: 'peer', containers: [{ name: 'c', image: 'nginx' }] },
  } as KubernetesObject);
  await waitFor(
    'pod IP',
    async () =>
      (await read<KubernetesObject & { status?: { podIP?: string } }>(c1, 'v1', 'Pod', 'p', 'dnsbench'))
        ?.status?.podIP,
  );
  const name = 'p.peer.dnsbench.svc.cluster1.local';
  const resolvedEverywhere = () =>
    Promise.all(
      ['cluster0', 'cluster2'].map((c) =>
        waitFor(`${name} from ${c}`, async () => (await resolveA(dnsOf(c), name)).length > 0, {
          intervalMs: 50,
          timeoutMs: 120_000,
        }),
      ),
    );
  const gone = () =>
    Promise.all(
      ['cluster0', 'cluster2'].map((c) =>
        waitFor(`${name} gone from ${c}`, async () => (await resolveA(dnsOf(c), name)).length === 0, {
          intervalMs: 100,
          timeoutMs: 120_000,
        }),
      ),
    );
  await apply(host, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dnsbench' } });
  const viaFedctl: number[] = [];
  const byHand: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    await apply(host, {
      apiVersion: 'multiclusterdns.kubefed.io/v1alpha1',
      kind: 'ServiceDNSRecord',
      metadata: { name: 'peer', namespace: 'dnsbench' },
      spec: { domainRef: 'fed' },
    } as KubernetesObject);
    await resolvedEverywhere();
    viaFedctl.push(performance.now() - t);
    await remove(host, 'multiclusterdns.kubefed.io/v1alpha1', 'ServiceDNSRecord', 'peer', 'dnsbench');
    await gone();
  }
  // Baseline: write the block fedctl would write, straight into both ConfigMaps.
  for (let i = 0; i < 3; i++) {
    const originals: Record<string, string> = {};
    t = performance.now();
    await Promise.all(
      ['cluster0', 'cluster2'].map(async (c) => {
        const api = clusterApi(kubeconfig, c).api;
        const cm = (await read(api, 'v1', 'ConfigMap', 'coredns', 'kube-system')) as KubernetesObject & {
          data: { Corefile: string };
        };
        originals[c] = cm.data.Corefile;
        const port = dnsOf(c).split(':')[1];
        await mergePatch(api, cm, {
          data: {
            Corefile: `${cm.data.Corefile}cluster1.local:${port} {\n    bind 127.0.0.1\n    forward . ${dnsOf('cluster1')}\n}\n`,
          },
        });
      }),
    );
    await resolvedEverywhere();
    byHand.push(performance.now() - t);
    for (const c of ['cluster0', 'cluster2']) {
      const api = clusterApi(kubeconfig, c).api;
      await mergePatch(api, (await read(api, 'v1', 'ConfigMap', 'coredns', 'kube-system'))!, {
        data: { Corefile: originals[c] },
      });
    }
    await gone();
  }
  const med = (xs: number[]) => percentile(xs, 50);
  report(
    'dns: ServiceDNSRecord → resolves from both other clusters (median of 3)',
    `${(med(viaFedctl) / 1000).toFixed(2)} s`,
  );
  report('dns: same block written by hand → resolves (median of 3)', `${(med(byHand) / 1000).toFixed(2)} s`);
  report('dns ratio (fedctl / by hand)', `${(med(viaFedctl) / med(byHand)).toFixed(2)}x`);
} finally {
  await controller.stop();
  await tb.down();
}

const width = Math.max(...results.map(([k]) => k.length));
process.stdout.write(`${results.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
