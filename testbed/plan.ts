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
