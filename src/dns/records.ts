// Pure computation of the DNS records KubeFed v0.6.1 published for ServiceDNSRecords and
// IngressDNSRecords (its dnsendpoint and servicedns controllers), so a DNSEndpoint written by fedctl
// is byte-for-byte what KubeFed wrote for the same input.
//
// KubeFed's rules, restated:
// - Per cluster, names at three levels: `<p>.<domain>` (global), `<p>.<region>.<domain>` (region) and
//   `<p>.<zone>.<region>.<domain>` for each zone, where `<p>` = `<svc>.<ns>.<domainRef>.svc` and
//   `<svc>` is replaced by `spec.externalName` when set (those records carry label serviceName=<svc>).
// - A level gets an A record with the cluster's load balancer addresses; a cluster without any gets a
//   CNAME to the level above instead (zone → region → global); the global level has nothing above,
//   so that CNAME has an empty target and is dropped.
// - Records with the same name are merged: A beats CNAME; A targets are united, sorted as strings and
//   de-duplicated. Records are sorted by name.
// - Load balancer host names are resolved to addresses (Go's net.LookupHost) and published as A
//   records; an unresolvable name fails the whole computation (the controller retries).
// - `dnsPrefix` adds CNAME `<dnsPrefix>.<domain>` → global name. Default TTL 180.
//
// One deliberate difference: KubeFed refused to publish anything while any ready cluster lacked a
// region or zones. fedctl publishes such a cluster at the levels it has (global only without a
// region; global and region without zones), because local testbeds and many on-premises clusters
// have no topology labels. Inputs KubeFed accepted give identical output.

import { isIP } from 'node:net';
import {
  type ClusterDNS,
  type ClusterIngressDNS,
  DEFAULT_RECORD_TTL,
  DNS_API_VERSION,
  type DNSEndpoint,
  type Domain,
  dnsEndpointName,
  type Endpoint,
  type IngressDNSRecord,
  type LoadBalancerIngress,
  type LoadBalancerStatus,
  type ServiceDNSRecord,
} from '../api/dns.ts';
import { normaliseName } from './validate.ts';

export const RECORD_TYPE_A = 'A';
export const RECORD_TYPE_CNAME = 'CNAME';

/** Host names seen in load balancer status, mapped to the addresses they resolve to. */
export type ResolvedHostnames = ReadonlyMap<string, readonly string[]>;

/** A load balancer host name that was not (or could not be) resolved before computing records. */
export class UnresolvedHostnameError extends Error {
  readonly hostname: string;
  constructor(hostname: string, where: string) {
    super(`load balancer host name "${hostname}" of ${where} is not resolved to any address`);
    this.name = 'UnresolvedHostnameError';
    this.hostname = hostname;
  }
}

/** A record or Domain that cannot produce DNS names (terminal until the object changes). */
export class DnsRecordInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsRecordInputError';
  }
}

const ttlOf = (recordTTL: number | undefined): number =>
  recordTTL === undefined || recordTTL === 0 ? DEFAULT_RECORD_TTL : recordTTL;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const sortUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(byString);

/** Addresses and host names of a load balancer status, in order, IP before host name per entry. */
export function loadBalancerTargets(lb: LoadBalancerStatus | undefined): string[] {
  const out: string[] = [];
  for (const ing of lb?.ingress ?? []) {
    if (ing.ip) out.push(ing.ip);
    if (ing.hostname) out.push(ing.hostname);
  }
  return out;
}

/** Every host name (not IP) found in the load balancer statuses, sorted and unique: what to resolve first. */
export function loadBalancerHostnames(statuses: readonly { loadBalancer?: LoadBalancerStatus }[]): string[] {
  return sortUnique(
    statuses.flatMap((s) => loadBalancerTargets(s.loadBalancer)).filter((t) => isIP(t) === 0),
  );
}

function resolveTargets(targets: readonly string[], resolved: ResolvedHostnames, where: string): string[] {
  const out: string[] = [];
  for (const t of targets) {
    if (isIP(t) !== 0) {
      out.push(t);
      continue;
    }
    const addrs = resolved.get(t);
    if (!addrs || addrs.length === 0) throw new UnresolvedHostnameError(t, where);
    out.push(...addrs);
  }
  return sortUnique(out);
}

/**
 * Merges record sets by name as KubeFed's DedupeAndMergeEndpoints did: drops empty targets and
 * endpoints left without targets, keeps A over CNAME for one name, unites targets of the same type.
 */
export function dedupeAndMergeEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const byName = new Map<string, Endpoint>();
  const cleaned = endpoints
    .map((e) => ({ ...e, targets: e.targets.filter((t) => t !== '') }))
    .filter((e) => e.targets.length > 0);
  for (const e of cleaned) {
    const seen = byName.get(e.dnsName);
    if (!seen) {
      byName.set(e.dnsName, e);
    } else if (seen.recordType !== e.recordType) {
      if (seen.recordType === RECORD_TYPE_CNAME) byName.set(e.dnsName, e);
    } else {
      byName.set(e.dnsName, { ...seen, targets: sortUnique([...seen.targets, ...e.targets]) });
    }
  }
  return [...byName.values()].sort((a, b) => byString(a.dnsName, b.dnsName));
}

function endpoint(
  name: string,
  targets: string[],
  uplevel: string,
  ttl: number,
  labels: Record<string, string> | undefined,
): Endpoint {
  const e: Endpoint =
    targets.length > 0
      ? { dnsName: name, targets, recordType: RECORD_TYPE_A, recordTTL: ttl }
      : { dnsName: name, targets: [uplevel], recordType: RECORD_TYPE_CNAME, recordTTL: ttl };
  if (labels) e.labels = { ...labels };
  return e;
}

/** The federation zone of a Domain object, normalised (lowercase, no trailing dot). */
export function domainZone(domain: Pick<Domain, 'domain'> | string): string {
  const d = typeof domain === 'string' ? domain : domain.domain;
  if (typeof d !== 'string' || normaliseName(d) === '') {
    throw new DnsRecordInputError('the Domain has no domain');
  }
  return normaliseName(d);
}

export interface ServiceRecordNames {
  /** `<svc|externalName>.<ns>.<domainRef>.svc` */
  prefix: string;
  global: string;
  region(region: string): string;
  zone(zone: string, region: string): string;
  /** `<dnsPrefix>.<domain>` when dnsPrefix is set. */
  dnsPrefix?: string;
}

/** The names of a ServiceDNSRecord's records in a zone (the Domain's `domain`). */
export function serviceRecordNames(record: ServiceDNSRecord, domain: string): ServiceRecordNames {
  const { name, namespace } = record.metadata;
  if (!namespace) throw new DnsRecordInputError(`ServiceDNSRecord ${name} has no namespace`);
  if (!record.spec?.domainRef)
    throw new DnsRecordInputError(`ServiceDNSRecord ${namespace}/${name} has no spec.domainRef`);
  const zone = domainZone(domain);
  const prefix = [record.spec.externalName || name, namespace, record.spec.domainRef, 'svc'].join('.');
  const names: ServiceRecordNames = {
    prefix,
    global: `${prefix}.${zone}`,
    region: (r) => `${prefix}.${r}.${zone}`,
    zone: (z, r) => `${prefix}.${z}.${r}.${zone}`,
  };
  if (record.spec.dnsPrefix) names.dnsPrefix = `${record.spec.dnsPrefix}.${zone}`;
  return names;
}

export interface ServiceEndpointsInput {
  /** The Domain named by spec.domainRef (its `domain` is the zone). */
  domain: Pick<Domain, 'domain'> | string;
  /** Per-cluster status; defaults to the record's `status.dns`. */
  dns?: readonly ClusterDNS[];
  /** Addresses of load balancer host names (see loadBalancerHostnames); required for every host name. */
  resolved?: ResolvedHostnames;
}

/**
 * The DNSEndpoint endpoints of a ServiceDNSRecord, as KubeFed v0.6.1 computed them.
 * Throws UnresolvedHostnameError (retry after resolving) or DnsRecordInputError (bad object).
 */
export function serviceDnsEndpoints(record: ServiceDNSRecord, input: ServiceEndpointsInput): Endpoint[] {
  const names = serviceRecordNames(
    record,
    typeof input.domain === 'string' ? input.domain : input.domain.domain,
  );
  const ttl = ttlOf(record.spec.recordTTL);
  const labels = record.spec.externalName ? { serviceName: record.metadata.name } : undefined;
  const resolved = input.resolved ?? new Map();
  const out: Endpoint[] = [];
  const where = (c: ClusterDNS) =>
    `ServiceDNSRecord ${record.metadata.namespace}/${record.metadata.name} in cluster ${c.cluster ?? '?'}`;

  for (const c of input.dns ?? record.status?.dns ?? []) {
    const targets = resolveTargets(loadBalancerTargets(c.loadBalancer), resolved, where(c));
    if (c.region) {
      const regionName = names.region(c.region);
      for (const z of c.zones ?? []) {
        if (z) out.push(endpoint(names.zone(z, c.region), targets, regionName, ttl, labels));
      }
      out.push(endpoint(regionName, targets, names.global, ttl, labels));
    }
    out.push(endpoint(names.global, targets, '', ttl, labels));
  }

  if (names.dnsPrefix) {
    out.push({
      dnsName: names.dnsPrefix,
      targets: [names.global],
      recordType: RECORD_TYPE_CNAME,
      recordTTL: ttl,
    });
  }
  return dedupeAndMergeEndpoints(out);
}

/**
 * The endpoints of an IngressDNSRecord as KubeFed v0.6.1 computed them: for every host, one A record
 * with the ingress load balancer addresses of all clusters; nothing for a host when no cluster has any.
 */
export function ingressDnsEndpoints(
  record: IngressDNSRecord,
  input: { dns?: readonly ClusterIngressDNS[]; resolved?: ResolvedHostnames } = {},
): Endpoint[] {
  const ttl = ttlOf(record.spec?.recordTTL);
  const resolved = input.resolved ?? new Map();
  const dns = input.dns ?? record.status?.dns ?? [];
  const where = `IngressDNSRecord ${record.metadata.namespace ?? ''}/${record.metadata.name}`;
  const raw = dns.flatMap((c) => loadBalancerTargets(c.loadBalancer));
  const out: Endpoint[] = [];
  for (const host of record.spec?.hosts ?? []) {
    if (raw.length === 0) continue;
    out.push({
      dnsName: host,
      targets: resolveTargets(raw, resolved, where),
      recordType: RECORD_TYPE_A,
      recordTTL: ttl,
    });
  }
  return dedupeAndMergeEndpoints(out);
}

/** The DNSEndpoint object KubeFed kept beside a record: same namespace, name `<kind>-<record name>`. */
export function desiredDnsEndpoint(
  kind: 'service' | 'ingress',
  record: { metadata: { name: string; namespace?: string } },
  endpoints: Endpoint[],
): DNSEndpoint {
  return {
    apiVersion: DNS_API_VERSION,
    kind: 'DNSEndpoint',
    metadata: { name: dnsEndpointName(kind, record.metadata.name), namespace: record.metadata.namespace },
    spec: { endpoints },
  };
}

// ---------------------------------------------------------------------------------------------
// Per-cluster status (KubeFed's servicedns controller)

/** What a member cluster knows about the Service behind a ServiceDNSRecord. */
export interface ServiceInCluster {
  status?: { loadBalancer?: LoadBalancerStatus };
}

export type ClusterDnsReason =
  /** The Service has ready endpoints; its load balancer is published. */
  | 'EndpointsReady'
  /** No ready endpoints, but spec.allowServiceWithoutEndpoints publishes the load balancer anyway. */
  | 'AllowedWithoutEndpoints'
  /** No ready endpoints: the cluster is listed without load balancer (its names become CNAMEs). */
  | 'NoEndpoints'
  /** The Service does not exist in the cluster. */
  | 'ServiceNotFound'
  /** The Service exists but has no load balancer address yet. */
  | 'NoLoadBalancer';

export interface ClusterDnsDecision {
  /** The entry for `status.dns[]`. */
  dns: ClusterDNS;
  /** True when the cluster adds addresses (A records); false when it only adds CNAMEs. */
  contributes: boolean;
  reason: ClusterDnsReason;
}

function sortedIngress(lb: LoadBalancerStatus | undefined): LoadBalancerStatus {
  const ingress = [...(lb?.ingress ?? [])].map((i) => ({ ...i }));
  if (ingress.length === 0) return {};
  ingress.sort((a, b) => {
    const ai = a.ip ?? '';
    const bi = b.ip ?? '';
    return ai === bi ? byString(a.hostname ?? '', b.hostname ?? '') : byString(ai, bi);
  });
  return { ingress };
}

/**
 * The `status.dns[]` entry of one ready member cluster, as KubeFed's servicedns controller built it:
 * the cluster is always listed with its region and zones; the Service's load balancer (ingress
 * sorted by IP, then host name) is included only when the Service has ready endpoints or the record
 * allows Services without endpoints.
 */
export function serviceDnsStatus(
  clusterName: string,
  service: ServiceInCluster | undefined,
  endpointsReady: boolean,
  allowWithoutEndpoints: boolean,
  region: string | undefined,
  zones: readonly string[] | undefined,
): ClusterDnsDecision {
  const dns: ClusterDNS = { cluster: clusterName };
  if (region) dns.region = region;
  if (zones && zones.length > 0) dns.zones = [...zones];
  let reason: ClusterDnsReason;
  if (!endpointsReady && !allowWithoutEndpoints) {
    reason = service ? 'NoEndpoints' : 'ServiceNotFound';
    dns.loadBalancer = {};
  } else if (!service) {
    reason = 'ServiceNotFound';
    dns.loadBalancer = {};
  } else {
    dns.loadBalancer = sortedIngress(service.status?.loadBalancer);
    const hasTargets = loadBalancerTargets(dns.loadBalancer).length > 0;
    reason = !hasTargets ? 'NoLoadBalancer' : endpointsReady ? 'EndpointsReady' : 'AllowedWithoutEndpoints';
  }
  return { dns, contributes: loadBalancerTargets(dns.loadBalancer).length > 0, reason };
}

/** True when an Endpoints object (core/v1) has at least one ready address, KubeFed's test. */
export function endpointsHaveAddresses(
  endpoints: { subsets?: { addresses?: unknown[] }[] } | undefined,
): boolean {
  return (endpoints?.subsets ?? []).some((s) => (s.addresses?.length ?? 0) > 0);
}

/**
 * The whole `status.dns` list: ready clusters' entries, plus the previous entry of every offline
 * cluster with its load balancer cleared (KubeFed kept offline clusters listed so their names turn
 * into CNAMEs instead of disappearing). Sorted by cluster name.
 */
export function mergeClusterDns(
  ready: readonly ClusterDNS[],
  previous: readonly ClusterDNS[],
  offlineClusters: readonly string[],
): ClusterDNS[] {
  const out: ClusterDNS[] = ready.map((d) => structuredClone(d));
  const listed = new Set(out.map((d) => d.cluster));
  for (const name of offlineClusters) {
    if (listed.has(name)) continue;
    const prev = previous.find((d) => d.cluster === name);
    if (prev) {
      out.push({ ...structuredClone(prev), loadBalancer: {} });
      listed.add(name);
    }
  }
  return out.sort((a, b) => byString(a.cluster ?? '', b.cluster ?? ''));
}

export type { LoadBalancerIngress };
