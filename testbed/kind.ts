import { stringify } from 'yaml';
import type { ClusterPlan } from './plan.ts';
import { topologyLabels } from './plan.ts';

// The kind provider's pure parts: cluster configs, command lines, kubeconfig server rewriting and
// the cross-cluster DNS Service. The runner (kind-runner.ts) only executes what these return.

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';

export interface KindNode {
  role: 'control-plane' | 'worker';
  labels?: Record<string, string>;
  image?: string;
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: typeof KIND_API_VERSION;
  name: string;
  networking: {
    podSubnet: string;
    serviceSubnet: string;
    apiServerAddress: string;
    apiServerPort?: number;
  };
  nodes: KindNode[];
  kubeadmConfigPatches?: string[];
}

export interface KindConfigOptions {
  /** Worker nodes (the control-plane node is extra). */
  workers: number;
  /** Node image, e.g. kindest/node:v1.36.x; default: kind's own default. */
  image?: string;
  /** Address the API server is published on; 127.0.0.1 keeps it off the network. */
  apiServerAddress?: string;
}

/**
 * A kind cluster config for one planned cluster: its own pod and service subnets, the cluster
 * domain through a kubeadm patch when it is not cluster.local, K workers with topology labels.
 */
export function kindClusterConfig(plan: ClusterPlan, opts: KindConfigOptions): KindCluster {
  if (!Number.isInteger(opts.workers) || opts.workers < 0)
    throw new Error(`workers must be >= 0, got ${opts.workers}`);
  const labels = topologyLabels(plan);
  const node = (role: KindNode['role']): KindNode => ({
    role,
    labels: { ...labels },
    ...(opts.image ? { image: opts.image } : {}),
  });
  const cfg: KindCluster = {
    kind: 'Cluster',
    apiVersion: KIND_API_VERSION,
    name: plan.name,
    networking: {
      podSubnet: plan.podCIDR,
      serviceSubnet: plan.serviceCIDR,
      apiServerAddress: opts.apiServerAddress ?? '127.0.0.1',
    },
    nodes: [node('control-plane'), ...Array.from({ length: opts.workers }, () => node('worker'))],
  };
  if (plan.domain !== 'cluster.local') {
    cfg.kubeadmConfigPatches = [
      stringify({ kind: 'ClusterConfiguration', networking: { dnsDomain: plan.domain } }),
      stringify({ kind: 'KubeletConfiguration', clusterDomain: plan.domain }),
    ];
  }
  return cfg;
}

export const renderKindConfig = (cfg: KindCluster): string => stringify(cfg, { lineWidth: 0 });

export interface Command {
  file: string;
  args: string[];
}

export function kindCreateCommand(
  name: string,
  configPath: string,
  kubeconfigPath: string,
  wait = '180s',
): Command {
  return {
    file: 'kind',
    args: [
      'create',
      'cluster',
      '--name',
      name,
      '--config',
      configPath,
      '--kubeconfig',
      kubeconfigPath,
      '--wait',
      wait,
    ],
  };
}

export const kindDeleteCommand = (name: string): Command => ({
  file: 'kind',
  args: ['delete', 'cluster', '--name', name],
});

export const kindGetClustersCommand = (): Command => ({ file: 'kind', args: ['get', 'clusters'] });

/** `kind get kubeconfig --internal` gives the address containers on the kind network use. */
export const kindKubeconfigCommand = (name: string, internal: boolean): Command => ({
  file: 'kind',
  args: ['get', 'kubeconfig', '--name', name, ...(internal ? ['--internal'] : [])],
});

/** Parses `kind get clusters` output (one name a line; "No kind clusters found." on stderr). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('No kind clusters'));
}

/**
 * Where the host controller reaches a kind cluster's API server. kind publishes it on
 * apiServerAddress:random-port, which works from the host; `internal` selects the in-network address
 * https://<name>-control-plane:6443 for a controller running in a container on the kind network.
 */
export function kindServer(name: string, published: string, where: 'host' | 'internal'): string {
  if (where === 'internal') return `https://${name}-control-plane:6443`;
  const u = new URL(published);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  return u.toString().replace(/\/$/, '');
}

/**
 * The kube-system Service through which other clusters find this cluster's DNS. In kind it is a
 * LoadBalancer Service selecting the CoreDNS pods, so it gets a NodePort; with no load-balancer
 * controller in kind, the runner sets its status ingress to the control-plane container's address
 * and that NodePort.
 */
export function kindCrossClusterDnsService(label: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'cross-cluster-dns', namespace: 'kube-system', labels: { [label]: 'true' } },
    spec: {
      type: 'LoadBalancer',
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
      ],
    },
  };
}

/** Status subresource body announcing DNS at ip:port (UDP). */
export function dnsIngressStatus(ip: string, port: number): Record<string, unknown> {
  return { status: { loadBalancer: { ingress: [{ ip, ports: [{ port, protocol: 'UDP' }] }] } } };
}
