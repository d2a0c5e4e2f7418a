import type { KubernetesObject } from '@kubernetes/client-node';
import type { DNSEndpoint, Domain, ServiceDNSRecord } from '../api/dns.ts';
import { loadMembers } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { listResource } from '../kube/resources.ts';
import { dnsClusterOf, serviceInCluster } from './cluster-view.ts';
import { DNS_ENDPOINT_REF, DOMAIN_REF, SERVICE_DNS_RECORD_REF } from './controller.ts';
import { currentSection } from './corefile.ts';
import { planCorefiles } from './plan.ts';
import { readCorefile, sectionFor } from './writer.ts';

export interface ClusterSection {
  cluster: string;
  /** The section fedctl wants in this cluster's Corefile ('' = none). */
  wanted: string;
  /** The section the live Corefile holds. */
  live: string;
  inSync: boolean;
  /** Why the wanted section could not be rendered, or the cluster could not be read. */
  error?: string;
}

/**
 * What `fedctl dns show|check` prints: for each Ready member, the section fedctl wants (computed as
 * the controller computes it) beside the section its live Corefile holds, plus per-record problems.
 */
export async function corefileSections(
  host: ClusterClients,
  namespace: string,
  only?: string,
): Promise<{ sections: ClusterSection[]; problems: Map<string, string[]> }> {
  const members = (await loadMembers(host, namespace)).filter(
    (m): m is typeof m & { clients: ClusterClients } => m.ready && m.clients !== undefined,
  );
  const [records, domains, endpoints] = await Promise.all([
    listResource(host.kc, SERVICE_DNS_RECORD_REF),
    listResource(host.kc, DOMAIN_REF, { namespace }),
    listResource(host.kc, DNS_ENDPOINT_REF),
  ]);
  const serviceClusters = new Map<string, string[]>();
  for (const r of records.items as unknown as Array<ServiceDNSRecord & KubernetesObject>) {
    const found = await Promise.all(members.map((m) => serviceInCluster(m, r)));
    serviceClusters.set(
      `${r.metadata.namespace}/${r.metadata.name}`,
      found.flatMap((f) => ('exists' in f && f.exists ? [f.dns.cluster ?? ''] : [])),
    );
  }
  const views = await Promise.all(members.map((m) => dnsClusterOf(m)));
  const plan = planCorefiles({
    clusters: views.map((v) => v.cluster),
    serviceClusters,
    domains: domains.items as unknown as Domain[],
    dnsEndpoints: endpoints.items as unknown as DNSEndpoint[],
  });
  const sections: ClusterSection[] = [];
  for (const m of members) {
    if (only && m.name !== only) continue;
    const spec = plan.sections.get(m.name) ?? { zones: [] };
    try {
      const current = await readCorefile(m.clients);
      if (!current) {
        sections.push({
          cluster: m.name,
          wanted: '',
          live: '',
          inSync: false,
          error: 'kube-system/coredns has no Corefile',
        });
        continue;
      }
      const wanted = sectionFor(spec.zones, { records: spec.records })(current);
      const live = currentSection(current.corefile);
      sections.push({ cluster: m.name, wanted, live, inSync: wanted === live });
    } catch (e) {
      sections.push({ cluster: m.name, wanted: '', live: '', inSync: false, error: (e as Error).message });
    }
  }
  if (only && sections.length === 0)
    throw new Error(`cluster ${only} is not a Ready member (see fedctl get clusters)`);
  return { sections, problems: plan.problems };
}
