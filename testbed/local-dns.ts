import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CROSS_CLUSTER_DNS_LABEL } from '../src/api/constants.ts';
import type { Binaries } from './binaries.ts';
import { type ClusterCtx, corednsSpec } from './components.ts';
import { renderCorefile } from './corefile.ts';
import { resolveA } from './dns-query.ts';
import { dnsIngressStatus } from './kind.ts';
import { type Log, launch, type StateRecorder } from './launch.ts';
import type { TestbedPki } from './pki.ts';
import type { PortAllocator } from './ports.ts';
import type { ClusterRecord } from './state.ts';

// Cluster DNS of the local provider: one CoreDNS per cluster on 127.0.0.1, its Corefile mirrored
// in the kube-system/coredns ConfigMap (kept in sync by corefile-sync.ts), and the labelled
// Service that tells fedctl where each cluster's DNS answers.

const SYNC_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'corefile-sync.ts');

const corefileFor = (c: ClusterRecord): string =>
  renderCorefile({ domain: c.domain, port: c.ports!.dns, kubeconfig: c.kubeconfig, context: c.context });

export async function setUpDns(
  rec: StateRecorder,
  log: Log,
  b: Binaries,
  ports: PortAllocator,
  ctx: ClusterCtx,
) {
  const c = ctx.rec;
  const http = ctx.http!;
  const corefilePath = join(c.dir, 'coredns', 'Corefile');
  await mkdir(dirname(corefilePath), { recursive: true });
  const writeCorefile = async () => {
    const corefile = corefileFor(c);
    await writeFile(corefilePath, corefile);
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: corefile },
    };
    await http.create('/api/v1/namespaces/kube-system/configmaps', cm);
    await http.mergePatch('/api/v1/namespaces/kube-system/configmaps/coredns', {
      data: { Corefile: corefile },
    });
  };
  await writeCorefile();
  // The in-cluster DNS Service kubeadm creates (no endpoints here: CoreDNS runs on the host).
  await http.create('/api/v1/namespaces/kube-system/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' },
    },
    spec: {
      clusterIP: ctx.plan.dnsServiceIP,
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  });
  await launch(rec, log, {
    cluster: c,
    name: 'coredns',
    spec: () => corednsSpec(b, c),
    ready: async () => {
      const ips = await resolveA(`127.0.0.1:${c.ports!.dns}`, `kubernetes.default.svc.${c.domain}`, {
        timeoutMs: 500,
        retries: 0,
      });
      return ips.includes(ctx.plan.apiServiceIP);
    },
    repick: async () => {
      c.ports!.dns = await ports.replace(c.ports!.dns);
      c.dns = `127.0.0.1:${c.ports!.dns}`;
      await writeCorefile();
    },
  });
  // How fedctl learns this cluster's DNS address: a labelled LoadBalancer Service whose ingress we
  // set by hand (nothing else here would).
  await http.create('/api/v1/namespaces/kube-system/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'cross-cluster-dns',
      namespace: 'kube-system',
      labels: { [CROSS_CLUSTER_DNS_LABEL]: 'true' },
    },
    spec: {
      type: 'LoadBalancer',
      allocateLoadBalancerNodePorts: false,
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
    },
  });
  await http.mergePatch(
    '/api/v1/namespaces/kube-system/services/cross-cluster-dns/status',
    dnsIngressStatus('127.0.0.1', c.ports!.dns),
  );
  log(`${c.name}: CoreDNS answering on ${c.dns} for ${c.domain}`);
}

export async function startCorefileSync(rec: StateRecorder, log: Log, pki: TestbedPki): Promise<void> {
  const state = rec.state;
  const cfgPath = join(state.stateDir, 'corefile-sync.json');
  await writeFile(
    cfgPath,
    JSON.stringify(
      {
        intervalMs: 1000,
        clusters: state.clusters.map((c) => ({
          name: c.name,
          server: c.server,
          ca: pki.caCert,
          cert: pki.adminCert,
          key: pki.adminKey,
          corefile: join(c.dir, 'coredns', 'Corefile'),
        })),
      },
      null,
      2,
    ),
  );
  const logPath = join(state.stateDir, 'logs', 'corefile-sync.log');
  await launch(rec, log, {
    cluster: null,
    name: 'corefile-sync',
    spec: () => ({
      name: 'corefile-sync',
      cmd: process.execPath,
      args: [SYNC_SCRIPT, cfgPath],
      log: logPath,
    }),
    ready: async () => existsSync(logPath) && /syncing /.test(readFileSync(logPath, 'utf8')),
    timeoutMs: 30_000,
  });
}
