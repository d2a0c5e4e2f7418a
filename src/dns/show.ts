import type { KubernetesObject } from '@kubernetes/client-node';
import type { Problem } from '../api/conditions.ts';
import type { DNSEndpoint, Domain, ServiceDNSRecord } from '../api/dns.ts';
import { StaticMemberResource } from '../clusters/member-cache.ts';
import { loadMembers } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import {
  CONFIGMAP_REF,
  DNS_ENDPOINT_REF,
  DOMAIN_REF,
  ENDPOINTSLICE_REF,
  INGRESS_REF,
  NODE_REF,
  SERVICE_DNS_RECORD_REF,
  SERVICE_REF,
} from '../kube/refs.ts';
import { listResource } from '../kube/resources.ts';
import { currentSection } from './corefile.ts';
import { corefilePlanOf, type MemberDnsCaches } from './inputs.ts';
import { COREDNS_NAMESPACE, corefileClients, readCorefile, sectionFor } from './writer.ts';

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
): Promise<{ sections: ClusterSection[]; problems: Map<string, Problem[]> }> {
  const members = (await loadMembers(host, namespace)).filter(
    (m): m is typeof m & { clients: ClusterClients } => m.ready && m.clients !== undefined,
  );
  const [records, domains, endpoints] = await Promise.all([
    listResource(host.kc, SERVICE_DNS_RECORD_REF),
    listResource(host.kc, DOMAIN_REF, { namespace }),
    listResource(host.kc, DNS_ENDPOINT_REF),
  ]);
  const plan = corefilePlanOf({
    ready: members,
    members: await listedCaches(members),
    host: {
      records: records.items as unknown as ServiceDNSRecord[],
      domains: domains.items as unknown as Domain[],
      endpoints: endpoints.items as unknown as DNSEndpoint[],
    },
  });
  const sections: ClusterSection[] = [];
  for (const m of members) {
    if (only && m.name !== only) continue;
    const spec = plan.sections.get(m.name) ?? { zones: [] };
    try {
      const current = await readCorefile(corefileClients(m.clients));
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

/** The controller's member inputs, listed once from each member (what its caches would hold). */
async function listedCaches(
  members: ReadonlyArray<{ name: string; clients: ClusterClients }>,
): Promise<MemberDnsCaches> {
  const caches = {
    services: new StaticMemberResource(SERVICE_REF),
    endpointSlices: new StaticMemberResource(ENDPOINTSLICE_REF),
    nodes: new StaticMemberResource(NODE_REF),
    ingresses: new StaticMemberResource(INGRESS_REF),
    configMaps: new StaticMemberResource(CONFIGMAP_REF),
  };
  await Promise.all(
    members.flatMap((m) =>
      Object.values(caches).map(async (c) => {
        const ns = c.ref === CONFIGMAP_REF ? COREDNS_NAMESPACE : undefined;
        c.set(
          m.name,
          (await listResource(m.clients.kc, c.ref, { namespace: ns })).items as KubernetesObject[],
        );
      }),
    ),
  );
  return caches as unknown as MemberDnsCaches;
}
