// Multi-cluster DNS, level-triggered. Three reconcilers on the shared runtime:
// - `dns-records`, per ServiceDNSRecord: the Service's addresses in every Ready member into
//   `status.dns`, the DNSEndpoint `service-<name>`, conditions RecordsPublished and
//   ForwardZonesConfigured;
// - `dns-ingress-records`, per IngressDNSRecord: load balancers into `status.dns`, DNSEndpoint
//   `ingress-<name>`, condition RecordsPublished;
// - `dns-corefiles`, per member: fedctl's Corefile section, computed from the caches alone (the
//   Services of every Ready member, their DNS addresses and domains, Domains, DNSEndpoints).
// No reconciler reads another's private results, so the order they run in after a start or a leader
// change does not matter; and none computes from a cache that has not listed: a restart never writes
// a section with fewer zones (or a status with fewer addresses) than the inputs really give.
// Everything is read from caches: in steady state the controller sends no requests to members.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  ConditionType,
  type ConditionUpdate,
  DnsReason,
  type Problem,
  setCondition,
} from '../api/conditions.ts';
import { DNS_GROUP, DNS_VERSION } from '../api/constants.ts';
import type { ClusterDNS, ClusterIngressDNS, DNSEndpoint, Endpoint, LoadBalancerStatus } from '../api/dns.ts';
import type { MemberResource } from '../clusters/member-cache.ts';
import { ensureObject } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import {
  DNS_ENDPOINT_REF,
  DOMAIN_REF,
  INGRESS_DNS_RECORD_REF,
  objectKey,
  type ResourceRef,
  SERVICE_DNS_RECORD_REF,
  splitKey,
} from '../kube/refs.ts';
import { patchStatus } from '../kube/resources.ts';
import { Runner, writeStatusIfChanged } from '../kube/runner.ts';
import { needsUpdate } from '../propagation/equality.ts';
import { checkCorefile } from './coredns-check.ts';
import {
  type ConfigMap,
  corefilePlanOf,
  type DnsMember,
  type HostDnsCaches,
  type IngressRecord,
  type MemberDnsCaches,
  type ServiceRecord,
  serviceDnsIn,
  serviceOfSlice,
  unsynced,
} from './inputs.ts';
import {
  DnsRecordInputError,
  desiredDnsEndpoint,
  ingressDnsEndpoints,
  loadBalancerHostnames,
  mergeClusterDns,
  serviceDnsEndpoints,
  UnresolvedHostnameError,
} from './records.ts';
import { type HostLookup, resolveHostnames } from './resolve.ts';
import {
  COREDNS_CONFIGMAP,
  COREDNS_CUSTOM_CONFIGMAP,
  COREDNS_NAMESPACE,
  type ConfigMapApi,
  type CorefileOutcome,
  configMapApi,
  type SectionSpec,
  writeCorefileSection,
} from './writer.ts';

/** A cache a computation needs has not listed yet: look again after this (its sync also enqueues). */
const SYNC_WAIT_MS = 1_000;
/** A refused Corefile section or an unresolved load balancer name is tried again after this. */
const RETRY_INPUT_MS = 30_000;

/** Every write the DNS controller makes; tests record them, production sends them to the API. */
export interface DnsWriter {
  /** Merge-patch the status of a ServiceDNSRecord or IngressDNSRecord. */
  patchStatus(ref: ResourceRef, name: string, namespace: string, status: unknown): Promise<void>;
  /** Create or update a DNSEndpoint (the caller checked it differs from the cache). */
  writeEndpoint(endpoint: DNSEndpoint & KubernetesObject): Promise<void>;
  /** fedctl's section of one member's Corefile (the writer decides whether anything changes). */
  writeCorefile(cluster: string, section: SectionSpec): Promise<CorefileOutcome>;
}

export interface DnsMemberInfo extends DnsMember {
  clients?: ClusterClients;
}

export interface DnsControllerOptions {
  /** Namespace of the control plane, where Domains live. */
  namespace: string;
  members: () => readonly DnsMemberInfo[];
  isReady: (cluster: string) => boolean;
  host: HostDnsCaches;
  caches: MemberDnsCaches;
  writer: DnsWriter;
  log: Logger;
  metrics?: Registry;
  /** Forward with TCP (force_tcp), for networks that drop UDP between clusters. */
  forceTcp?: boolean;
  /** Resolves load balancer host names; default the system resolver. */
  lookup?: HostLookup;
  now?: () => Date;
}

export class DnsController {
  readonly records: Runner;
  readonly ingressRecords: Runner;
  readonly corefiles: Runner;
  readonly #o: DnsControllerOptions;
  /**
   * The last refusal per member (the outcome of the Corefile write itself, not an input to any
   * section): reported on the records' ForwardZonesConfigured condition.
   */
  readonly #refusals = new Map<string, Problem<DnsReason>>();
  readonly #writes;

  constructor(o: DnsControllerOptions) {
    this.#o = o;
    const { host, caches } = o;
    const common = { log: o.log, metrics: o.metrics };
    this.records = new Runner({
      ...common,
      name: 'dns-records',
      workers: 4,
      keys: () => host.records.list().map(objectKey),
      reconcile: (key) => this.reconcileRecord(key),
    });
    this.ingressRecords = new Runner({
      ...common,
      name: 'dns-ingress-records',
      keys: () => host.ingressRecords.list().map(objectKey),
      reconcile: (key) => this.reconcileIngressRecord(key),
    });
    this.corefiles = new Runner({
      ...common,
      name: 'dns-corefiles',
      keys: () => this.#ready().map((m) => m.name),
      reconcile: (cluster) => this.reconcileCorefile(cluster),
    });
    this.#writes = o.metrics?.counter(
      'fedctl_corefile_writes_total',
      'Corefile section writes by cluster and outcome',
      ['cluster', 'outcome'],
    );
    const all = (...runners: Runner[]) => {
      for (const r of runners) r.enqueueAll();
      return undefined;
    };
    // Every record's ForwardZonesConfigured comes from the whole plan (a cluster without DNS address,
    // an ambiguous namespace): what changes the plan re-reconciles the records as well as the Corefiles.
    const planChanged = () => all(this.corefiles, this.records);
    const hasRecord = (name: string, namespace?: string) =>
      host.records.get(name, namespace) !== undefined ? `${namespace}/${name}` : undefined;

    // Host inputs. A record's own status writes echo back: they change nothing another reconciler reads.
    this.records.watch(host.records, (r, e) => {
      if (e.type !== 'update') planChanged();
      return objectKey(r);
    });
    this.ingressRecords.watch(host.ingressRecords, objectKey);
    this.records.watch(host.domains, () => all(this.records, this.ingressRecords, this.corefiles), {
      resync: 'drop',
    });
    // A DNSEndpoint changed by someone else is put back by its record; its zones feed every Corefile.
    this.records.watch(host.endpoints, (ep, e) => {
      if (e.old === undefined || !sameEndpoints(ep, e.old)) planChanged();
      const name = ep.metadata?.name ?? '';
      if (name.startsWith('service-'))
        return hasRecord(name.slice('service-'.length), ep.metadata?.namespace);
      if (name.startsWith('ingress-')) {
        const n = name.slice('ingress-'.length);
        if (host.ingressRecords.get(n, ep.metadata?.namespace))
          this.ingressRecords.enqueue(`${ep.metadata?.namespace}/${n}`);
      }
      return undefined;
    });

    // Member inputs.
    this.records.watch(caches.services, (s, e) => {
      const ns = s.metadata?.namespace;
      // Whether a Service exists decides forwarding; kube-system's labelled Services are DNS addresses.
      if (e.type !== 'update' || ns === COREDNS_NAMESPACE) planChanged();
      return hasRecord(s.metadata?.name ?? '', ns);
    });
    this.records.watch(caches.endpointSlices, (s) => {
      const service = serviceOfSlice(s) ?? '';
      if (s.metadata?.namespace === COREDNS_NAMESPACE && service === 'kube-dns') planChanged();
      return hasRecord(service, s.metadata?.namespace);
    });
    // Node heartbeats change status only; topology labels are what records publish.
    this.records.watch(caches.nodes, (n, e) =>
      e.type === 'update' && sameTopology(n, e.old) ? undefined : all(this.records),
    );
    this.ingressRecords.watch(caches.ingresses, (i) =>
      host.ingressRecords.get(i.metadata?.name ?? '', i.metadata?.namespace) ? objectKey(i) : undefined,
    );
    // A member's Corefile gives its domain, which other members' sections forward to.
    this.corefiles.watch(caches.configMaps, (cm) =>
      cm.metadata?.name === COREDNS_CONFIGMAP || cm.metadata?.name === COREDNS_CUSTOM_CONFIGMAP
        ? planChanged()
        : undefined,
    );
    for (const resource of Object.values(caches) as MemberResource[])
      resource.onSynced(() => all(this.records, this.ingressRecords, this.corefiles));
  }

  start(): void {
    this.records.start();
    this.ingressRecords.start();
    this.corefiles.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.records.stop(), this.ingressRecords.stop(), this.corefiles.stop()]);
  }

  /** Clusters joined, left or changed health. */
  clustersChanged(): void {
    this.records.clustersChanged();
    this.ingressRecords.clustersChanged();
    this.corefiles.clustersChanged();
  }

  #ready(): Array<DnsMemberInfo & { clients: ClusterClients }> {
    return this.#o
      .members()
      .filter(
        (m): m is DnsMemberInfo & { clients: ClusterClients } =>
          m.clients !== undefined && this.#o.isReady(m.name),
      );
  }

  /** One ServiceDNSRecord: per-cluster status, DNSEndpoint, conditions. */
  async reconcileRecord(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const { host, caches } = this.#o;
    const [namespace, name] = splitKey(key);
    // Gone: its DNSEndpoint is garbage-collected through the owner reference.
    const record = host.records.get(name, namespace);
    if (!record) return undefined;
    const now = this.#now();
    const generation = record.metadata.generation;
    let conditions = record.status?.conditions ?? [];
    const domain = host.domains.get(record.spec.domainRef, this.#o.namespace);
    if (!domain) {
      conditions = setCondition(
        conditions,
        {
          type: ConditionType.RecordsPublished,
          status: 'False',
          reason: DnsReason.DomainNotFound,
          message: `Domain ${this.#o.namespace}/${record.spec.domainRef} not found`,
          observedGeneration: generation,
        },
        now,
      );
      await this.#writeStatus(SERVICE_DNS_RECORD_REF, record, { ...(record.status ?? {}), conditions });
      return undefined;
    }
    const ready = this.#ready();
    const names = ready.map((m) => m.name);
    // An unlisted cache would publish a cluster without its addresses: wait for it.
    if (unsynced(caches, names, ['services', 'endpointSlices', 'nodes']).length > 0)
      return { requeueAfterMs: SYNC_WAIT_MS };

    const found = names.map((c) => serviceDnsIn(c, caches, record));
    const withService = found.filter((f) => f.exists).map((f) => f.dns.cluster ?? '');
    const offline = this.#o
      .members()
      .map((m) => m.name)
      .filter((n) => !names.includes(n));
    const dns = mergeClusterDns(
      found.map((f) => f.dns),
      record.status?.dns ?? [],
      offline,
    );
    const published = await this.#publish('service', record, dns, (resolved) =>
      serviceDnsEndpoints(record, { domain, dns, resolved }),
    );
    conditions = setCondition(conditions, published.condition, now);
    const plan = corefilePlanOf({
      ready,
      members: caches,
      host: { records: host.records.list(), domains: host.domains.list(), endpoints: host.endpoints.list() },
      forceTcp: this.#o.forceTcp,
    });
    const problems = [...(plan.problems.get(key) ?? [])];
    if (withService.length > 0) problems.push(...this.#refusals.values());
    conditions = setCondition(
      conditions,
      problems.length > 0
        ? {
            type: ConditionType.ForwardZonesConfigured,
            status: 'False',
            reason: problems[0]!.reason,
            message: problems.map((p) => `${p.reason}: ${p.message}`).join('; '),
            observedGeneration: generation,
          }
        : {
            type: ConditionType.ForwardZonesConfigured,
            status: 'True',
            reason: DnsReason.CorefilesUpdated,
            message: `forwarding to ${withService.join(', ') || 'no cluster'}`,
            observedGeneration: generation,
          },
      now,
    );
    await this.#writeStatus(SERVICE_DNS_RECORD_REF, record, {
      ...(record.status ?? {}),
      domain: domain.domain,
      dns,
      observedGeneration: generation,
      conditions,
    });
    return published.retry ? { requeueAfterMs: RETRY_INPUT_MS } : undefined;
  }

  /**
   * One IngressDNSRecord (KubeFed v0.6.1): the load balancers of the same-named Ingress in every Ready
   * member into `status.dns`, and A records for its hosts in DNSEndpoint `ingress-<name>`.
   */
  async reconcileIngressRecord(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const { host, caches } = this.#o;
    const [namespace, name] = splitKey(key);
    const record = host.ingressRecords.get(name, namespace);
    if (!record) return undefined;
    const names = this.#ready().map((m) => m.name);
    if (unsynced(caches, names, ['ingresses']).length > 0) return { requeueAfterMs: SYNC_WAIT_MS };
    const dns: ClusterIngressDNS[] = names.flatMap((cluster) => {
      const ingress = caches.ingresses.get(cluster, name, namespace);
      return ingress ? [{ cluster, loadBalancer: structuredClone(ingress.status?.loadBalancer ?? {}) }] : [];
    });
    const published = await this.#publish('ingress', record, dns, (resolved) =>
      ingressDnsEndpoints(record, { dns, resolved }),
    );
    await this.#writeStatus(INGRESS_DNS_RECORD_REF, record, {
      dns,
      observedGeneration: record.metadata.generation,
      conditions: setCondition(record.status?.conditions ?? [], published.condition, this.#now()),
    });
    return published.retry ? { requeueAfterMs: RETRY_INPUT_MS } : undefined;
  }

  /** One member's Corefile section: forward zones plus federation zones, from the caches alone. */
  async reconcileCorefile(cluster: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const { host, caches } = this.#o;
    const ready = this.#ready();
    // Not Ready (or gone): its Corefile is left as it is until it is back (unjoin cleans it).
    if (!ready.some((m) => m.name === cluster)) return undefined;
    const waiting = unsynced(
      caches,
      ready.map((m) => m.name),
      ['services', 'endpointSlices', 'configMaps'],
    );
    for (const h of [host.records, host.domains, host.endpoints])
      if (!h.hasSynced()) waiting.push(`host ${h.ref.plural}`);
    if (waiting.length > 0) {
      this.corefiles.log.debug('corefile waits for caches', { cluster, waiting });
      return { requeueAfterMs: SYNC_WAIT_MS };
    }
    const plan = corefilePlanOf({
      ready,
      members: caches,
      host: { records: host.records.list(), domains: host.domains.list(), endpoints: host.endpoints.list() },
      forceTcp: this.#o.forceTcp,
    });
    let outcome: CorefileOutcome;
    try {
      outcome = await this.#o.writer.writeCorefile(cluster, plan.sections.get(cluster) ?? { zones: [] });
    } catch (e) {
      this.#setRefusal(cluster, {
        reason: DnsReason.WriteFailed,
        message: `cluster ${cluster}: ${errorMessage(e)}`,
      });
      throw e;
    }
    this.#writes?.inc({ cluster, outcome: outcome.outcome });
    if (outcome.outcome === 'refused') {
      this.corefiles.log.warn('corefile section refused', {
        cluster,
        reason: outcome.reason,
        message: outcome.message,
      });
      this.#setRefusal(cluster, {
        reason: outcome.reason,
        message: `cluster ${cluster}: ${outcome.message}`,
      });
      return { requeueAfterMs: RETRY_INPUT_MS };
    }
    if (outcome.outcome === 'updated') this.corefiles.log.info('corefile section updated', { cluster });
    this.#setRefusal(cluster, undefined);
    return undefined;
  }

  #setRefusal(cluster: string, problem: Problem<DnsReason> | undefined): void {
    const before = this.#refusals.get(cluster);
    if (before?.reason === problem?.reason && before?.message === problem?.message) return;
    if (problem) this.#refusals.set(cluster, problem);
    else this.#refusals.delete(cluster);
    this.records.enqueueAll();
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  async #writeStatus(
    ref: ResourceRef,
    record: ServiceRecord | IngressRecord,
    status: NonNullable<(ServiceRecord | IngressRecord)['status']>,
  ): Promise<void> {
    await writeStatusIfChanged(record, status, (s) =>
      this.#o.writer.patchStatus(ref, record.metadata.name, record.metadata.namespace ?? '', s),
    );
  }

  /**
   * Resolve load-balancer host names (KubeFed published their addresses as A records), compute the
   * records, write the DNSEndpoint when it differs from the cache, and say so as RecordsPublished.
   * An input problem becomes a False condition (looked at again later: names may start resolving);
   * a failed write throws (retried with backoff).
   */
  async #publish(
    kind: 'service' | 'ingress',
    record: ServiceRecord | IngressRecord,
    dns: readonly (ClusterDNS | ClusterIngressDNS)[],
    endpointsFor: (resolved: Awaited<ReturnType<typeof resolveHostnames>>['resolved']) => Endpoint[],
  ): Promise<{ condition: ConditionUpdate; retry: boolean }> {
    const observedGeneration = record.metadata.generation;
    const { resolved } = await resolveHostnames(
      loadBalancerHostnames(dns as { loadBalancer?: LoadBalancerStatus }[]),
      this.#o.lookup,
    );
    let endpoints: Endpoint[];
    try {
      endpoints = endpointsFor(resolved);
    } catch (e) {
      if (!(e instanceof UnresolvedHostnameError || e instanceof DnsRecordInputError)) throw e;
      const reason =
        e instanceof UnresolvedHostnameError ? DnsReason.UnresolvedHostname : DnsReason.RecordsFailed;
      return {
        condition: {
          type: ConditionType.RecordsPublished,
          status: 'False',
          reason,
          message: e.message,
          observedGeneration,
        },
        retry: true,
      };
    }
    const desired = dnsEndpointFor(kind, record, endpoints);
    const cached = this.#o.host.endpoints.get(desired.metadata.name, desired.metadata.namespace);
    if (!cached || needsUpdate(desired, cached)) await this.#o.writer.writeEndpoint(desired);
    return {
      condition: {
        type: ConditionType.RecordsPublished,
        status: 'True',
        reason: DnsReason.RecordsWritten,
        message: `${endpoints.length} records in DNSEndpoint ${kind}-${record.metadata.name}`,
        observedGeneration,
      },
      retry: false,
    };
  }
}

/** The DNSEndpoint beside a record (`service-<name>` or `ingress-<name>`), owned by it so it goes with it. */
export function dnsEndpointFor(
  kind: 'service' | 'ingress',
  record: { metadata: { name: string; namespace?: string; uid?: string } },
  endpoints: Endpoint[],
): DNSEndpoint & KubernetesObject & { metadata: { name: string } } {
  const desired = desiredDnsEndpoint(kind, record, endpoints);
  desired.metadata.ownerReferences = [
    {
      apiVersion: `${DNS_GROUP}/${DNS_VERSION}`,
      kind: kind === 'service' ? 'ServiceDNSRecord' : 'IngressDNSRecord',
      name: record.metadata.name,
      uid: record.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: false,
    },
  ];
  return desired as DNSEndpoint & KubernetesObject & { metadata: { name: string } };
}

const TOPOLOGY_LABELS = [
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
];

function sameTopology(a: KubernetesObject, b: KubernetesObject | undefined): boolean {
  return TOPOLOGY_LABELS.every((l) => a.metadata?.labels?.[l] === b?.metadata?.labels?.[l]);
}

const sameEndpoints = (a: DNSEndpoint & KubernetesObject, b: DNSEndpoint & KubernetesObject) =>
  JSON.stringify(a.spec?.endpoints ?? []) === JSON.stringify(b.spec?.endpoints ?? []);

/** The host informers DNS reads (started and stopped by whoever runs the controller). */
export function dnsHostInformers(
  host: ClusterClients,
  namespace: string,
  log: Logger,
): HostDnsCaches & {
  start(): Promise<void>;
  stop(): Promise<void>;
} {
  const informer = <T extends KubernetesObject>(ref: ResourceRef, ns?: string) =>
    new SupervisedInformer<T>({
      name: `${host.name}/${ref.plural}`,
      kc: host.kc,
      ref,
      namespace: ns,
      logger: log,
    });
  const caches: HostDnsCaches = {
    records: informer(SERVICE_DNS_RECORD_REF),
    ingressRecords: informer(INGRESS_DNS_RECORD_REF),
    domains: informer(DOMAIN_REF, namespace),
    endpoints: informer(DNS_ENDPOINT_REF),
  };
  const all = Object.values(caches) as SupervisedInformer[];
  return {
    ...caches,
    start: async () => void (await Promise.all(all.map((i) => i.start()))),
    stop: async () => void (await Promise.all(all.map((i) => i.stop()))),
  };
}

/**
 * The writes of the running controller: statuses and DNSEndpoints to the host; Corefile sections to
 * members, reading CoreDNS' ConfigMaps from the shared cache (no request while nothing changes) and
 * live once a write was tried (a conflict means the cache is behind).
 */
export function apiDnsWriter(o: {
  host: ClusterClients;
  members: () => readonly DnsMemberInfo[];
  configMaps: MemberResource<ConfigMap>;
  corednsBinary?: string;
}): DnsWriter {
  return {
    patchStatus: async (ref, name, namespace, status) => {
      await patchStatus(o.host.kc, ref, name, namespace, status);
    },
    writeEndpoint: async (endpoint) => {
      await ensureObject(o.host.kc, DNS_ENDPOINT_REF, endpoint);
    },
    writeCorefile: async (cluster, section) => {
      const clients = o.members().find((m) => m.name === cluster)?.clients;
      if (!clients) throw new Error(`cluster ${cluster} has no client`);
      let live = false;
      const api = configMapApi(clients.kc);
      const configMaps: ConfigMapApi = {
        readNamespacedConfigMap: async (p) => {
          if (live) return api.readNamespacedConfigMap(p);
          const cached = o.configMaps.get(cluster, p.name, p.namespace);
          if (!cached)
            throw Object.assign(new Error(`configmap ${p.namespace}/${p.name} not found`), { code: 404 });
          return structuredClone(cached);
        },
        replaceNamespacedConfigMap: async (p) => {
          live = true;
          return api.replaceNamespacedConfigMap(p);
        },
        createNamespacedConfigMap: async (p) => {
          live = true;
          return api.createNamespacedConfigMap(p);
        },
      };
      return writeCorefileSection({ name: cluster, configMaps }, section, {
        check: (c) => checkCorefile(c, { binary: o.corednsBinary }),
      });
    },
  };
}
