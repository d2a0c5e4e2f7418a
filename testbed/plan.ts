import { clusterNetwork } from './cidr.ts';
import type { DomainMode } from './state.ts';

// What a testbed of N clusters looks like before anything starts: names, domains, address ranges,
// node names and labels. Shared by the local and kind providers. Pure.

export interface ClusterPlan {
  name: string;
  index: number;
  domain: string;
  podCIDR: string;
  serviceCIDR: string;
  /** ClusterIP of the `kubernetes` Service (first address of the service range). */
  apiServiceIP: string;
  /** ClusterIP kubeadm gives kube-dns (10th address of the service range). */
  dnsServiceIP: string;
  region: string;
  zone: string;
}

export const MAX_CLUSTERS = 20;
export const MAX_NODES = 10;

export const clusterName = (index: number): string => `cluster${index}`;

export function clusterDomain(mode: DomainMode, index: number): string {
  return mode === 'shared' ? 'cluster.local' : `${clusterName(index)}.local`;
}

export function planClusters(count: number, mode: DomainMode): ClusterPlan[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CLUSTERS) {
    throw new Error(`--clusters must be an integer between 1 and ${MAX_CLUSTERS}, got ${count}`);
  }
  if (mode !== 'shared' && mode !== 'distinct') {
    throw new Error(`--cluster-domain must be "shared" or "distinct", got "${String(mode)}"`);
  }
  return Array.from({ length: count }, (_, i) => {
    const net = clusterNetwork(i);
    const dnsServiceIP = net.apiServiceIP.replace(/\.1$/, '.10');
    return {
      name: clusterName(i),
      index: i,
      domain: clusterDomain(mode, i),
      podCIDR: net.podCIDR,
      serviceCIDR: net.serviceCIDR,
      apiServiceIP: net.apiServiceIP,
      dnsServiceIP,
      region: `region-${i}`,
      zone: `region-${i}-a`,
    };
  });
}

export function checkNodeCount(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new Error(`--nodes must be an integer between 1 and ${MAX_NODES}, got ${nodes}`);
  }
}

/** Labels every testbed node carries (kwok nodes add type=kwok). */
export function topologyLabels(plan: ClusterPlan): Record<string, string> {
  return { 'topology.kubernetes.io/region': plan.region, 'topology.kubernetes.io/zone': plan.zone };
}

/**
 * `full`: every cluster runs the whole control plane plus fake nodes and DNS (what the e2e suites
 * need). `light`: etcd + kube-apiserver + a controller-manager running only the controllers fedctl
 * depends on, for scale runs where memory per cluster decides how many clusters fit.
 */
export type Profile = 'full' | 'light';

export const PROFILES: readonly Profile[] = ['full', 'light'];

export type Component =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'coredns';

/** What a cluster of a profile runs and sets up; `up` follows it step by step. */
export interface ProfilePlan {
  profile: Profile;
  components: readonly Component[];
  /** kube-controller-manager's --controllers. */
  kcmControllers: readonly string[];
  /** Fake nodes per cluster (kwok makes them Ready, KCM gives them podCIDRs). */
  nodes: number;
  /** Nodes backed by network namespaces. */
  netns: boolean;
  /** CoreDNS per cluster, the Corefile sync and the cross-cluster DNS Service. */
  dns: boolean;
}

/**
 * Resolves a profile and the caller's node options. Light clusters have no nodes: nothing would make
 * them Ready (no kwok) or give them a podCIDR (no KCM), so asking for nodes there is an error.
 */
export function planProfile(profile: Profile, opts: { nodes?: number; netns?: boolean }): ProfilePlan {
  if (profile === 'full') {
    const nodes = opts.nodes ?? 2;
    checkNodeCount(nodes);
    return {
      profile,
      components: ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'coredns'],
      kcmControllers: ['*'],
      nodes,
      netns: opts.netns !== false,
      dns: true,
    };
  }
  if (profile === 'light') {
    if (opts.nodes !== undefined && opts.nodes !== 0) {
      throw new Error(
        `--profile light runs no kwok and no node controllers, so its clusters have no nodes; drop --nodes ${opts.nodes} or use --profile full`,
      );
    }
    return {
      profile,
      components: ['etcd', 'kube-apiserver', 'kube-controller-manager'],
      // `fedctl join` waits for the token controller to fill its ServiceAccount token Secret; the
      // namespace controller lets deleted namespaces finish (without it they stay Terminating).
      kcmControllers: ['serviceaccount-token', 'namespace'],
      nodes: 0,
      netns: false,
      dns: false,
    };
  }
  throw new Error(`--profile must be one of ${PROFILES.join(', ')}, got "${String(profile)}"`);
}
