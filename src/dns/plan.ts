import { DnsReason, type Problem } from '../api/conditions.ts';
import type { DNSEndpoint, Domain } from '../api/dns.ts';
import { errorMessage } from '../kube/errors.ts';
import { splitKey } from '../kube/refs.ts';
import { federationZones } from './federation-zone.ts';
import { type DnsCluster, forwardZonesFor, type NeededNamespace } from './forward-zones.ts';
import type { SectionSpec } from './writer.ts';

// Pure: from what the clusters and records look like, the Corefile section each member should hold
// and the problems each ServiceDNSRecord should report. Shared by the controller and `fedctl dns`.

/** Problems per record key (`namespace/name`), typed (one reason each), de-duplicated. */
export type RecordProblems = Map<string, Problem<DnsReason>[]>;

export interface CorefilePlanInput {
  /** Every Ready member as DNS sees it (domain, addresses). */
  clusters: DnsCluster[];
  /** Per record key, the clusters where its Service exists (they are forwarded to). */
  serviceClusters: ReadonlyMap<string, readonly string[]>;
  domains: readonly Pick<Domain, 'domain' | 'nameServer'>[];
  dnsEndpoints: readonly Pick<DNSEndpoint, 'metadata' | 'spec'>[];
  forceTcp?: boolean;
}

export interface CorefilePlan {
  /** The section for each cluster (empty zones remove fedctl's section). */
  sections: Map<string, SectionSpec>;
  problems: RecordProblems;
  /** Add a problem to every record whose Service lives in one of these clusters. */
  blame(clusters: readonly string[], problem: Problem<DnsReason>): void;
}

export function planCorefiles(input: CorefilePlanInput): CorefilePlan {
  // A cluster whose domain or addresses are not clean (hostile annotation, odd discovery) is left
  // out with a reason; validating each alone keeps one bad cluster from stopping the others.
  const invalid = new Map<string, string>();
  for (const c of input.clusters) {
    try {
      forwardZonesFor([c]);
    } catch (e) {
      invalid.set(c.name, errorMessage(e));
    }
  }
  const valid = input.clusters.filter((c) => !invalid.has(c.name));
  const known = new Set(input.clusters.map((c) => c.name));
  const needed: NeededNamespace[] = [];
  const recordsByCluster = new Map<string, string[]>();
  for (const [key, where] of input.serviceClusters) {
    const namespace = splitKey(key)[0] ?? '';
    for (const cluster of where) {
      if (!known.has(cluster)) continue;
      if (!invalid.has(cluster)) needed.push({ cluster, namespace });
      recordsByCluster.set(cluster, [...(recordsByCluster.get(cluster) ?? []), key]);
    }
  }
  const problems: RecordProblems = new Map();
  const blame = (clusters: readonly string[], problem: Problem<DnsReason>) => {
    for (const cluster of clusters) {
      for (const key of recordsByCluster.get(cluster) ?? []) {
        const list = problems.get(key) ?? [];
        if (!list.some((p) => p.reason === problem.reason && p.message === problem.message))
          problems.set(key, [...list, problem]);
      }
    }
  };
  for (const [cluster, message] of invalid)
    blame([cluster], { reason: DnsReason.InvalidClusterDNS, message });
  const federation = federationZones(input.domains, input.dnsEndpoints);
  const result = forwardZonesFor(valid, {
    needed,
    forceTcp: input.forceTcp,
    federationZones: federation.zones.map((z) => z.zone),
  });
  for (const p of result.problems) blame(p.clusters, { reason: p.reason, message: p.message });
  const sections = new Map<string, SectionSpec>();
  for (const c of input.clusters) {
    sections.set(c.name, {
      zones: result.plans.find((p) => p.cluster === c.name)?.zones ?? [],
      records: federation.zones,
    });
  }
  return { sections, problems, blame };
}
