import { DiscoveryV1Api, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import { CROSS_CLUSTER_DNS_LABEL } from '../api/constants.ts';
import type { ClusterDNS, ServiceDNSRecord } from '../api/dns.ts';
import type { Member } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage, isNotFound } from '../kube/errors.ts';
import {
  CLUSTER_DOMAIN_ANNOTATION,
  clusterDomainFromCorefile,
  dnsAddresses,
  topologyOf,
} from './addresses.ts';
import type { DnsCluster } from './forward-zones.ts';
import { serviceDnsStatus } from './records.ts';
import { readCorefile } from './writer.ts';

// Reads of one member cluster for DNS: thin I/O around the pure modules.

type ReadyMember = Member & { clients: ClusterClients };

const readySlices = (slices: V1EndpointSlice[]) =>
  slices.flatMap((s) => (s.endpoints ?? []).filter((ep) => ep.conditions?.ready !== false));

/** The member as DNS sees it: its domain (annotation, else its Corefile) and the addresses of its DNS. */
export async function dnsClusterOf(m: ReadyMember): Promise<{ cluster: DnsCluster; corefile?: string }> {
  const corefile = await readCorefile(m.clients).catch(() => undefined);
  const domain =
    m.cluster.metadata?.annotations?.[CLUSTER_DOMAIN_ANNOTATION] ??
    clusterDomainFromCorefile(corefile?.corefile);
  const labelled = await m.clients.core
    .listNamespacedService({ namespace: 'kube-system', labelSelector: `${CROSS_CLUSTER_DNS_LABEL}=true` })
    .catch(() => ({ items: [] as V1Service[] }));
  let kubeDns: string[] = [];
  if (labelled.items.length === 0) {
    const slices = await m.clients.kc
      .makeApiClient(DiscoveryV1Api)
      .listNamespacedEndpointSlice({
        namespace: 'kube-system',
        labelSelector: 'kubernetes.io/service-name=kube-dns',
      })
      .catch(() => ({ items: [] as V1EndpointSlice[] }));
    kubeDns = readySlices(slices.items).flatMap((ep) => ep.addresses);
  }
  const { addresses } = dnsAddresses({
    annotations: m.cluster.metadata?.annotations,
    labelledServices: labelled.items,
    kubeDnsEndpoints: kubeDns,
  });
  return { cluster: { name: m.name, domain, dnsServers: addresses }, corefile: corefile?.corefile };
}

/** A record's Service in one member: its `status.dns` entry and whether the Service exists there. */
export async function serviceInCluster(
  m: ReadyMember,
  record: ServiceDNSRecord,
): Promise<{ dns: ClusterDNS; exists: boolean } | { error: string }> {
  const namespace = record.metadata.namespace ?? '';
  const name = record.metadata.name;
  try {
    let service: V1Service | undefined;
    try {
      service = await m.clients.core.readNamespacedService({ name, namespace });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const slices = service
      ? await m.clients.kc
          .makeApiClient(DiscoveryV1Api)
          .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` })
      : { items: [] as V1EndpointSlice[] };
    const ready = readySlices(slices.items).length > 0;
    const { region, zones } = topologyOf((await m.clients.core.listNode()).items);
    const decision = serviceDnsStatus(
      m.name,
      service as never,
      ready,
      record.spec.allowServiceWithoutEndpoints === true,
      region,
      zones,
    );
    return { dns: decision.dns, exists: service !== undefined };
  } catch (e) {
    return { error: `cluster ${m.name}: ${errorMessage(e)}` };
  }
}
