import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { CROSS_CLUSTER_DNS_LABEL } from '../src/api/constants.ts';
import { stdoutOf } from '../src/kube/exec.ts';
import {
  type Command,
  dnsIngressStatus,
  kindClusterConfig,
  kindCreateCommand,
  kindCrossClusterDnsService,
  kindDeleteCommand,
  kindGetClustersCommand,
  kindServer,
  parseKindClusters,
  renderKindConfig,
} from './kind.ts';
import { mergeKubeconfigs, renderKubeconfig, singleContext } from './kubeconfig.ts';
import type { Log } from './launch.ts';
import { planClusters } from './plan.ts';
import type { ClusterRecord, TestbedState } from './state.ts';

// Runs the kind provider: everything it decides comes from the pure functions in kind.ts.
// Needs Docker and the kind CLI; not exercised on machines without them.

const exec = (c: Command, timeout = 10 * 60_000) =>
  stdoutOf(c.file, c.args, { timeoutMs: timeout, streamStderr: true });

export async function upKind(state: TestbedState, log: Log, opts: { image?: string } = {}): Promise<void> {
  const dir = join(state.stateDir, 'kind');
  await mkdir(dir, { recursive: true });
  const existing = new Set(parseKindClusters(await stdoutOf('kind', kindGetClustersCommand().args)));
  const plans = planClusters(state.options.clusters, state.options.clusterDomain);
  // Refuse before creating anything, so a cleanup never deletes a kind cluster we did not make.
  const clash = plans.filter((p) => existing.has(p.name)).map((p) => p.name);
  if (clash.length > 0) {
    throw new Error(
      `kind cluster(s) ${clash.join(', ')} already exist; delete them (kind delete cluster --name …) or reuse them by hand`,
    );
  }
  const sources: { clusterName: string; text: string }[] = [];
  for (const plan of plans) {
    const cfgPath = join(dir, `${plan.name}.yaml`);
    const kcPath = join(dir, `${plan.name}.kubeconfig`);
    await writeFile(
      cfgPath,
      renderKindConfig(kindClusterConfig(plan, { workers: state.options.nodes, image: opts.image })),
    );
    const rec: ClusterRecord = {
      name: plan.name,
      index: plan.index,
      context: plan.name,
      server: '',
      podCIDR: plan.podCIDR,
      serviceCIDR: plan.serviceCIDR,
      domain: plan.domain,
      dns: '',
      dir,
      kubeconfig: kcPath,
      ports: null,
      nodes: [],
      processes: [],
    };
    state.clusters.push(rec);
    if (existing.has(plan.name)) {
      throw new Error(
        `a kind cluster named ${plan.name} already exists; delete it (kind delete cluster --name ${plan.name})`,
      );
    }
    log(`${plan.name}: kind create cluster (config ${cfgPath})`);
    await exec(kindCreateCommand(plan.name, cfgPath, kcPath));
    sources.push({ clusterName: plan.name, text: readFileSync(kcPath, 'utf8') });
  }
  const merged = mergeKubeconfigs(sources, { rewriteServer: (name, s) => kindServer(name, s, 'host') });
  await writeFile(state.kubeconfig, renderKubeconfig(merged), { mode: 0o600 });
  for (const c of state.clusters) {
    c.server = merged.clusters.find((x) => x.name === c.name)!.cluster.server;
    await writeFile(c.kubeconfig, renderKubeconfig(singleContext(merged, c.name)), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    let controlPlaneIP = '';
    for (const n of nodes.items) {
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
      if (n.metadata?.labels?.['node-role.kubernetes.io/control-plane'] !== undefined) controlPlaneIP = ip;
      c.nodes.push({ name: n.metadata?.name ?? '', ip, podCIDR: n.spec?.podCIDR ?? '', netns: null });
    }
    const svc = kindCrossClusterDnsService(CROSS_CLUSTER_DNS_LABEL);
    const created = await core.createNamespacedService({ namespace: 'kube-system', body: svc as never });
    const nodePort = created.spec?.ports?.find((p) => p.protocol === 'UDP')?.nodePort;
    if (!controlPlaneIP || !nodePort)
      throw new Error(`${c.name}: could not find the control-plane IP or DNS NodePort`);
    await core.replaceNamespacedServiceStatus({
      name: 'cross-cluster-dns',
      namespace: 'kube-system',
      body: { ...created, ...(dnsIngressStatus(controlPlaneIP, nodePort) as object) } as never,
    });
    c.dns = `${controlPlaneIP}:${nodePort}`;
    log(`${c.name}: ready at ${c.server}, DNS for other clusters at ${c.dns}`);
  }
  state.phase = 'ready';
}

export async function downKind(state: TestbedState, log: Log): Promise<void> {
  let existing: Set<string>;
  try {
    existing = new Set(parseKindClusters(await stdoutOf('kind', kindGetClustersCommand().args)));
  } catch (e) {
    log(`kind not usable (${(e as Error).message.split('\n')[0]}); skipping cluster deletion`);
    return;
  }
  for (const c of state.clusters) {
    if (!existing.has(c.name)) continue;
    log(`${c.name}: kind delete cluster`);
    await exec(kindDeleteCommand(c.name));
  }
}
