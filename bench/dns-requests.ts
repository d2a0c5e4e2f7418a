// How many requests per second the controller sends to each member with 50 ServiceDNSRecords in
// steady state, and how many watches it holds there. Counted on the members' API servers
// (apiserver_request_total, apiserver_longrunning_requests{verb="WATCH"}): the same numbers with the
// controller stopped are the baseline (kube-controller-manager, scheduler, kwok) and are subtracted.
//
//   node bench/dns-requests.ts            (about 6 minutes on a 2-core machine)
import type { KubernetesObject } from '@kubernetes/client-node';
import { kubeFetch } from '../src/kube/transport.ts';
import { startFederation } from '../testbed/harness/federation.ts';
import { apply, clusterApi, read } from '../testbed/harness/kube.ts';
import { waitFor } from '../testbed/harness/wait.ts';

const RECORDS = Number(process.env.RECORDS ?? 50);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 60_000);
const NS = 'kube-federation-system';
const DNS = 'multiclusterdns.kubefed.io/v1alpha1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(kubeconfig: string, cluster: string): Promise<{ requests: number; watches: number }> {
  const { kc } = clusterApi(kubeconfig, cluster);
  const text = await (await kubeFetch(kc, { method: 'GET', path: '/metrics' })).text();
  let requests = 0;
  let watches = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{')) requests += Number(line.split(' ').pop());
    if (line.startsWith('apiserver_longrunning_requests{') && line.includes('verb="WATCH"'))
      watches += Number(line.split(' ').pop());
  }
  return { requests, watches };
}

async function rates(kubeconfig: string, clusters: string[]) {
  const start = await Promise.all(clusters.map((c) => scrape(kubeconfig, c)));
  await sleep(WINDOW_MS);
  const end = await Promise.all(clusters.map((c) => scrape(kubeconfig, c)));
  return Object.fromEntries(
    clusters.map((c, i) => [
      c,
      { rps: (end[i]!.requests - start[i]!.requests) / (WINDOW_MS / 1000), watches: end[i]!.watches },
    ]),
  );
}

const fed = await startFederation({ name: 'bench-dns', clusters: 2, clusterDomain: 'distinct' });
try {
  const { host, api, kubeconfig } = fed;
  const clusters = fed.tb.status.clusters.map((c) => c.name);
  await waitFor('Domain CRD served', async () => {
    await apply(host, {
      apiVersion: DNS,
      kind: 'Domain',
      metadata: { name: 'fed', namespace: NS },
      domain: 'example.org',
    } as KubernetesObject);
    return true;
  });
  for (const c of [host, api.cluster1!])
    await apply(c, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  for (let i = 0; i < RECORDS; i++) {
    await apply(api.cluster1!, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { ports: [{ port: 80 }] },
    } as KubernetesObject);
    await apply(host, {
      apiVersion: DNS,
      kind: 'ServiceDNSRecord',
      metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { domainRef: 'fed', allowServiceWithoutEndpoints: true },
    } as KubernetesObject);
  }
  await waitFor(
    `${RECORDS} records published`,
    async () => {
      for (let i = 0; i < RECORDS; i++) {
        const r = await read<
          KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
        >(host, DNS, 'ServiceDNSRecord', `svc-${i}`, 'bench');
        if (!r?.status?.conditions?.some((c) => c.type === 'RecordsPublished' && c.status === 'True'))
          return false;
      }
      return true;
    },
    { timeoutMs: 300_000, intervalMs: 2000 },
  );
  // Past the first 30 s re-checks of the old controller, into steady state.
  await sleep(45_000);
  const running = await rates(kubeconfig, clusters);
  await fed.controller.stop();
  await sleep(10_000);
  const baseline = await rates(kubeconfig, clusters);
  const out = clusters.map((c) => ({
    cluster: c,
    controllerRequestsPerSecond: Math.round((running[c]!.rps - baseline[c]!.rps) * 100) / 100,
    controllerWatches: running[c]!.watches - baseline[c]!.watches,
    withControllerRps: Math.round(running[c]!.rps * 100) / 100,
    baselineRps: Math.round(baseline[c]!.rps * 100) / 100,
  }));
  process.stdout.write(
    `${JSON.stringify({ records: RECORDS, windowMs: WINDOW_MS, members: out }, null, 2)}\n`,
  );
} finally {
  await fed.stop(false);
}
