// What DNS reads, and how it reads it: every input comes from caches (the shared member cache for
// Services, EndpointSlices, Nodes, Ingresses and CoreDNS' ConfigMaps; host informers for records,
// Domains and DNSEndpoints). The controller and `fedctl dns show` compute from the same inputs with
// the same functions; nothing here does I/O.
import type {
  KubernetesObject,
  V1ConfigMap,
  V1EndpointSlice,
  V1Node,
  V1Service,
} from '@kubernetes/client-node';
import { CROSS_CLUSTER_DNS_LABEL } from '../api/constants.ts';
import type {
  ClusterDNS,
  DNSEndpoint,
  Domain,
  IngressDNSRecord,
  LoadBalancerStatus,
  ServiceDNSRecord,
} from '../api/dns.ts';
import type { MemberCache, MemberResource } from '../clusters/member-cache.ts';
import {
  CONFIGMAP_REF,
  ENDPOINTSLICE_REF,
  INGRESS_REF,
  NODE_REF,
  objectKey,
  type ResourceRef,
  SERVICE_REF,
} from '../kube/refs.ts';
import type { EventSource } from '../kube/runner.ts';
import {
  CLUSTER_DOMAIN_ANNOTATION,
  clusterDomainFromCorefile,
  dnsAddresses,
  topologyOf,
} from './addresses.ts';
import type { DnsCluster } from './forward-zones.ts';
import { type CorefilePlan, planCorefiles } from './plan.ts';
import { serviceDnsStatus } from './records.ts';
import { COREDNS_CONFIGMAP, COREDNS_NAMESPACE, COREFILE_KEY } from './writer.ts';

export type Service = V1Service & KubernetesObject;
export type EndpointSlice = V1EndpointSlice & KubernetesObject;
export type Node = V1Node & KubernetesObject;
export type ConfigMap = V1ConfigMap & KubernetesObject;
export type Ingress = KubernetesObject & { status?: { loadBalancer?: LoadBalancerStatus } };

/** The member resources DNS reads. */
export interface MemberDnsCaches {
  services: MemberResource<Service>;
  endpointSlices: MemberResource<EndpointSlice>;
  nodes: MemberResource<Node>;
  ingresses: MemberResource<Ingress>;
  /** kube-system only: the CoreDNS configuration. */
  configMaps: MemberResource<ConfigMap>;
}

/** The member resources DNS needs from the shared cache (one informer each per member). */
export function useDnsCaches(cache: MemberCache): MemberDnsCaches {
  return {
    services: cache.use<Service>(SERVICE_REF),
    endpointSlices: cache.use<EndpointSlice>(ENDPOINTSLICE_REF),
    nodes: cache.use<Node>(NODE_REF),
    ingresses: cache.use<Ingress>(INGRESS_REF),
    configMaps: cache.use<ConfigMap>(CONFIGMAP_REF, { namespace: COREDNS_NAMESPACE }),
  };
}

/** A host resource as DNS reads it (SupervisedInformer satisfies it). */
export interface HostResource<T extends KubernetesObject> extends EventSource<T> {
  readonly ref: ResourceRef;
  get(name: string, namespace?: string): T | undefined;
  list(): T[];
  hasSynced(): boolean;
}

export type ServiceRecord = ServiceDNSRecord & KubernetesObject;
export type IngressRecord = IngressDNSRecord & KubernetesObject;

/** The host resources DNS reads. */
export interface HostDnsCaches {
  records: HostResource<ServiceRecord>;
  ingressRecords: HostResource<IngressRecord>;
  /** Domains of the control-plane namespace. */
  domains: HostResource<Domain & KubernetesObject>;
  endpoints: HostResource<DNSEndpoint & KubernetesObject>;
}

/** A member as DNS sees it: its name and its KubeFedCluster's annotations. */
export interface DnsMember {
  name: string;
  cluster: { metadata?: { annotations?: Record<string, string> } };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const readyEndpoints = (slices: readonly EndpointSlice[]) =>
  slices.flatMap((s) => (s.endpoints ?? []).filter((ep) => ep.conditions?.ready !== false));

/** EndpointSlices of one Service. */
export const slicesOf = (caches: MemberDnsCaches, cluster: string, namespace: string, service: string) =>
  caches.endpointSlices
    .list(cluster, namespace)
    .filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === service);

/** The Service an EndpointSlice belongs to, or undefined. */
export const serviceOfSlice = (slice: KubernetesObject): string | undefined =>
  slice.metadata?.labels?.[SERVICE_NAME_LABEL];

/** `services in cluster0`, … for every cache a computation over `clusters` needs that has not listed. */
export function unsynced(
  caches: MemberDnsCaches,
  clusters: readonly string[],
  which: (keyof MemberDnsCaches)[],
): string[] {
  const out: string[] = [];
  for (const cluster of clusters)
    for (const k of which)
      if (!caches[k].synced(cluster)) out.push(`${caches[k].ref.plural} in cluster ${cluster}`);
  return out;
}

/** The member's DNS: its domain (annotation, else its Corefile) and the addresses of its DNS servers. */
export function dnsClusterView(m: DnsMember, caches: MemberDnsCaches): DnsCluster {
  const annotations = m.cluster.metadata?.annotations;
  const corefile = caches.configMaps.get(m.name, COREDNS_CONFIGMAP, COREDNS_NAMESPACE)?.data?.[COREFILE_KEY];
  const domain = annotations?.[CLUSTER_DOMAIN_ANNOTATION] ?? clusterDomainFromCorefile(corefile);
  const labelled = caches.services
    .list(m.name, COREDNS_NAMESPACE)
    .filter((s) => s.metadata?.labels?.[CROSS_CLUSTER_DNS_LABEL] === 'true');
  const kubeDns =
    labelled.length > 0
      ? []
      : readyEndpoints(slicesOf(caches, m.name, COREDNS_NAMESPACE, 'kube-dns')).flatMap((ep) => ep.addresses);
  const { addresses } = dnsAddresses({ annotations, labelledServices: labelled, kubeDnsEndpoints: kubeDns });
  return { name: m.name, domain, dnsServers: addresses };
}

/** A record's Service in one member: its `status.dns` entry and whether the Service exists there. */
export function serviceDnsIn(
  cluster: string,
  caches: MemberDnsCaches,
  record: ServiceDNSRecord,
): { dns: ClusterDNS; exists: boolean } {
  const namespace = record.metadata.namespace ?? '';
  const name = record.metadata.name;
  const service = caches.services.get(cluster, name, namespace);
  const ready = service ? readyEndpoints(slicesOf(caches, cluster, namespace, name)).length > 0 : false;
  const { region, zones } = topologyOf(caches.nodes.list(cluster));
  const decision = serviceDnsStatus(
    cluster,
    service as Parameters<typeof serviceDnsStatus>[1],
    ready,
    record.spec.allowServiceWithoutEndpoints === true,
    region,
    zones,
  );
  return { dns: decision.dns, exists: service !== undefined };
}

/** Per record key, the Ready clusters where its Service exists (the clusters others forward to). */
export function serviceClusters(
  records: readonly ServiceDNSRecord[],
  clusters: readonly string[],
  caches: MemberDnsCaches,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) {
    const where = clusters.filter(
      (c) => caches.services.get(c, r.metadata.name, r.metadata.namespace) !== undefined,
    );
    out.set(objectKey(r as KubernetesObject), [...where].sort());
  }
  return out;
}

/** The whole Corefile plan over the Ready members, from caches only. */
export function corefilePlanOf(input: {
  ready: readonly DnsMember[];
  members: MemberDnsCaches;
  host: {
    records: readonly ServiceDNSRecord[];
    domains: readonly Domain[];
    endpoints: readonly DNSEndpoint[];
  };
  forceTcp?: boolean;
}): CorefilePlan {
  const names = input.ready.map((m) => m.name);
  return planCorefiles({
    clusters: input.ready.map((m) => dnsClusterView(m, input.members)),
    serviceClusters: serviceClusters(input.host.records, names, input.members),
    domains: input.host.domains,
    dnsEndpoints: input.host.endpoints,
    forceTcp: input.forceTcp,
  });
}
