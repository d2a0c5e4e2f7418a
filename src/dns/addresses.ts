import type { V1Service } from '@kubernetes/client-node';
import { CROSS_CLUSTER_DNS_LABEL } from '../api/constants.ts';

// Where another cluster sends DNS queries for this cluster's names, and which domain this cluster
// serves. Pure: the DNS controller reads the objects and passes them in.

/** KubeFedCluster annotation: explicit DNS addresses for other clusters, `ip[:port]` comma-separated. */
export const DNS_ADDRESSES_ANNOTATION = 'fedctl.io/dns-addresses';
/** KubeFedCluster annotation: the cluster's DNS domain when its Corefile cannot tell (e.g. managed DNS). */
export const CLUSTER_DOMAIN_ANNOTATION = 'fedctl.io/cluster-domain';

export interface DnsAddressSource {
  /** The KubeFedCluster's annotations. */
  annotations?: Record<string, string>;
  /** kube-system Services labelled fedctl.io/cross-cluster-dns=true. */
  labelledServices: V1Service[];
  /** Ready addresses of kube-system/kube-dns endpoints (pod IPs). */
  kubeDnsEndpoints: string[];
}

export type DnsAddresses =
  | { addresses: string[]; source: 'annotation' | 'service' | 'kube-dns' }
  | { addresses: []; source: 'unknown' };

/**
 * A cluster's DNS addresses, in order: the explicit KubeFedCluster annotation (an operator's word
 * wins over discovery), the LoadBalancer ingress of a labelled kube-system Service (with its port
 * when the ingress lists one), the kube-dns endpoints on port 53. Sorted for stable Corefiles.
 */
export function dnsAddresses(src: DnsAddressSource): DnsAddresses {
  const explicit = src.annotations?.[DNS_ADDRESSES_ANNOTATION];
  if (explicit?.trim()) {
    return {
      addresses: explicit
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort(),
      source: 'annotation',
    };
  }
  const fromServices: string[] = [];
  for (const svc of src.labelledServices) {
    if (svc.metadata?.labels?.[CROSS_CLUSTER_DNS_LABEL] !== 'true') continue;
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      if (!ing.ip) continue;
      const port =
        ing.ports?.find((p) => (p.protocol ?? 'UDP') === 'UDP')?.port ?? ing.ports?.[0]?.port ?? 53;
      fromServices.push(port === 53 ? ing.ip : `${ing.ip}:${port}`);
    }
  }
  if (fromServices.length > 0) return { addresses: [...new Set(fromServices)].sort(), source: 'service' };
  if (src.kubeDnsEndpoints.length > 0)
    return { addresses: [...new Set(src.kubeDnsEndpoints)].sort(), source: 'kube-dns' };
  return { addresses: [], source: 'unknown' };
}

/**
 * The cluster domain a Corefile serves: the first zone of its `kubernetes` plugin that is not a
 * reverse zone (`kubernetes cluster.local in-addr.arpa ip6.arpa {` → cluster.local).
 */
export function clusterDomainFromCorefile(corefile: string | undefined): string | undefined {
  for (const line of (corefile ?? '').split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    if (words[0] !== 'kubernetes') continue;
    const zone = words.slice(1).find((w) => w !== '{' && !w.endsWith('.arpa') && !w.endsWith('.arpa.'));
    if (zone) return zone.replace(/\.$/, '').toLowerCase();
  }
  return undefined;
}

/** Region and zones of a cluster from its nodes' well-known topology labels. */
export function topologyOf(nodes: Array<{ metadata?: { labels?: Record<string, string> } }>): {
  region?: string;
  zones: string[];
} {
  const regions = new Set<string>();
  const zones = new Set<string>();
  for (const n of nodes) {
    const l = n.metadata?.labels ?? {};
    const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'];
    const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'];
    if (region) regions.add(region);
    if (zone) zones.add(zone);
  }
  // A cluster spanning regions has no single region (KubeFed reported one region per cluster).
  return { region: regions.size === 1 ? [...regions][0] : undefined, zones: [...zones].sort() };
}
