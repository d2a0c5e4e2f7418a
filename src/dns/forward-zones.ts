/**
 * Which zones each member cluster's CoreDNS forwards to which other cluster, so a pod in one cluster
 * resolves Service names of another.
 *
 * Two layouts:
 * - Distinct cluster domains (cluster-a.local, cluster-b.local): a name says which cluster it lives
 *   in, so every cluster forwards each other cluster's whole domain to that cluster's DNS.
 * - A shared domain (all clusters use cluster.local, as in the TiDB-on-EKS guide): names only differ
 *   by namespace, so forwarding is per namespace: `<ns>.svc.<domain>` goes to the one cluster that
 *   hosts that namespace. The same holds for a group of other clusters that share a domain different
 *   from the local one.
 *
 * Shared-domain conflicts are reported, never merged. A namespace hosted by (needed from, or known to
 * exist in) two other clusters of one domain has no single right upstream: forwarding to both would
 * answer from a random one per query, so no cluster gets a block for it (reason AmbiguousNamespace).
 * A namespace the local cluster has itself would be hidden by a forward block (the more specific
 * zone wins over the local `kubernetes` plugin), so that cluster gets no block for it
 * (ShadowsLocalNamespace). A forward zone equal to a federation zone would clash with the records
 * block (FederationZoneClash). A cluster without DNS addresses cannot be forwarded to (NoDnsAddress).
 */

import { DnsReason } from '../api/conditions.ts';
import type { ForwardZone } from './corefile.ts';
import { CorefileValueError, checkZone, parseUpstream } from './validate.ts';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface DnsCluster {
  name: string;
  /** Cluster DNS domain (kubelet --cluster-domain); default cluster.local. */
  domain?: string;
  /** Addresses other clusters reach this cluster's DNS at: `ip`, `ip:port` or `[ipv6]:port`. */
  dnsServers: string[];
  /** Namespaces that exist in this cluster, when known: used to detect ambiguity and shadowing. */
  namespaces?: string[];
}

/** A namespace of a cluster whose Service names other clusters must resolve. */
export interface NeededNamespace {
  cluster: string;
  namespace: string;
}

export interface ForwardZonesOptions {
  /**
   * Remote names other clusters need. Whole-domain forwarding goes to every other cluster with a
   * distinct domain when this is absent, and only to clusters named here when present. Per-namespace
   * forwarding (shared domains) happens only for the namespaces listed here.
   */
  needed?: readonly NeededNamespace[];
  forceTcp?: boolean;
  /** Zones served from federation records (Domains); forwarding them is a conflict. */
  federationZones?: readonly string[];
}

/** Reasons (owned by api/conditions.ts) forwardZonesFor reports. */
export type ForwardProblemReason = Extract<
  DnsReason,
  'AmbiguousNamespace' | 'ShadowsLocalNamespace' | 'FederationZoneClash' | 'NoDnsAddress'
>;

export interface ForwardProblem {
  reason: ForwardProblemReason;
  zone: string;
  /** Clusters that would serve the zone. */
  clusters: string[];
  /** Clusters whose CoreDNS does not get the block because of this problem. */
  affected: string[];
  message: string;
}

export interface ClusterForwardZones {
  cluster: string;
  zones: ForwardZone[];
}

export interface ForwardZonesResult {
  plans: ClusterForwardZones[];
  problems: ForwardProblem[];
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Checked {
  name: string;
  domain: string;
  dnsServers: string[];
  namespaces: Set<string>;
}

function checkCluster(c: DnsCluster): Checked {
  const ctx = (e: unknown) => new Error(`cluster ${c.name}: ${(e as Error).message}`);
  try {
    const domain = checkZone((c.domain || DEFAULT_CLUSTER_DOMAIN).toLowerCase(), 'cluster domain');
    for (const s of c.dnsServers) parseUpstream(s, 'DNS address');
    const namespaces = new Set((c.namespaces ?? []).map((n) => checkNamespace(n)));
    return { name: c.name, domain, dnsServers: [...c.dnsServers], namespaces };
  } catch (e) {
    throw ctx(e);
  }
}

function checkNamespace(ns: string): string {
  const z = checkZone(ns, 'namespace');
  if (z.includes('.')) throw new CorefileValueError('namespace', ns, 'is not a single DNS label');
  return z;
}

/**
 * For every cluster, the zones its CoreDNS must forward and where; plus the problems that kept
 * blocks out. Throws (naming the cluster) when a domain, address or namespace is not valid.
 */
export function forwardZonesFor(
  clusters: readonly DnsCluster[],
  options: ForwardZonesOptions = {},
): ForwardZonesResult {
  const all = clusters.map(checkCluster);
  const byName = new Map(all.map((c) => [c.name, c]));
  if (byName.size !== all.length) throw new Error('cluster names must be unique');
  const needed = options.needed?.map((n) => {
    if (!byName.has(n.cluster))
      throw new Error(`needed namespace ${n.namespace} names unknown cluster ${n.cluster}`);
    return { cluster: n.cluster, namespace: checkNamespace(n.namespace) };
  });
  const federation = new Set(
    (options.federationZones ?? []).map((z) => checkZone(z.toLowerCase(), 'federation zone')),
  );
  const problems = new Map<string, ForwardProblem>();
  const report = (
    reason: ForwardProblemReason,
    zone: string,
    serving: string[],
    source: string,
    message: string,
  ) => {
    const sorted = [...serving].sort(byString);
    const key = `${reason} ${zone} ${sorted.join(',')}`;
    const p = problems.get(key) ?? { reason, zone, clusters: sorted, affected: [], message };
    if (!p.affected.includes(source)) p.affected.push(source);
    problems.set(key, p);
  };

  const plans: ClusterForwardZones[] = [];
  for (const source of [...all].sort((a, b) => byString(a.name, b.name))) {
    const zones: ForwardZone[] = [];
    const add = (zone: string, target: Checked) => {
      if (federation.has(zone)) {
        report(
          DnsReason.FederationZoneClash,
          zone,
          [target.name],
          source.name,
          `zone ${zone} is also a federation Domain zone`,
        );
        return;
      }
      if (target.dnsServers.length === 0) {
        report(
          DnsReason.NoDnsAddress,
          zone,
          [target.name],
          source.name,
          `cluster ${target.name} has no DNS address to forward ${zone} to`,
        );
        return;
      }
      zones.push({ zone, upstreams: target.dnsServers, ...(options.forceTcp ? { forceTcp: true } : {}) });
    };

    const others = all.filter((c) => c.name !== source.name);
    const byDomain = new Map<string, Checked[]>();
    for (const o of others) byDomain.set(o.domain, [...(byDomain.get(o.domain) ?? []), o]);

    for (const [domain, group] of [...byDomain.entries()].sort(([a], [b]) => byString(a, b))) {
      if (domain !== source.domain && group.length === 1) {
        const target = group[0]!;
        if (!needed || needed.some((n) => n.cluster === target.name)) add(domain, target);
        continue;
      }
      // Per-namespace forwarding inside a domain shared by several clusters.
      const groupNames = new Set(group.map((g) => g.name));
      const namespaces = new Set(
        (needed ?? []).filter((n) => groupNames.has(n.cluster)).map((n) => n.namespace),
      );
      for (const ns of [...namespaces].sort(byString)) {
        const zone = `${ns}.svc.${domain}`;
        const hosts = group
          .filter(
            (g) => g.namespaces.has(ns) || needed!.some((n) => n.cluster === g.name && n.namespace === ns),
          )
          .map((g) => g.name);
        if (hosts.length > 1) {
          report(
            DnsReason.AmbiguousNamespace,
            zone,
            hosts,
            source.name,
            `namespace ${ns} exists in clusters ${[...hosts].sort(byString).join(', ')}, which share domain ${domain}; ` +
              `${zone} cannot be forwarded to one of them`,
          );
          continue;
        }
        const local =
          source.namespaces.has(ns) || needed!.some((n) => n.cluster === source.name && n.namespace === ns);
        if (domain === source.domain && local) {
          report(
            DnsReason.ShadowsLocalNamespace,
            zone,
            hosts,
            source.name,
            `namespace ${ns} also exists in cluster ${source.name}; forwarding ${zone} there would hide its own Services`,
          );
          continue;
        }
        add(zone, byName.get(hosts[0]!)!);
      }
    }
    zones.sort((a, b) => byString(a.zone, b.zone));
    plans.push({ cluster: source.name, zones });
  }
  const list = [...problems.values()].map((p) => ({ ...p, affected: p.affected.sort(byString) }));
  list.sort(
    (a, b) =>
      byString(a.zone, b.zone) ||
      byString(a.reason, b.reason) ||
      byString(a.clusters.join(), b.clusters.join()),
  );
  return { plans, problems: list };
}
