import type { KubernetesObject, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { setCondition } from '../api/conditions.ts';
import { CROSS_CLUSTER_DNS_LABEL, DNS_GROUP, DNS_VERSION } from '../api/constants.ts';
import type { ClusterDNS, DNSEndpoint, Domain, ServiceDNSRecord } from '../api/dns.ts';
import type { Member } from '../clusters/registry.ts';
import { ensureObject } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage, isNotFound } from '../kube/errors.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import { patchStatus, type ResourceRef } from '../kube/resources.ts';
import { runWorkers, type Workers, WorkQueue } from '../kube/workqueue.ts';
import {
  CLUSTER_DOMAIN_ANNOTATION,
  clusterDomainFromCorefile,
  dnsAddresses,
  topologyOf,
} from './addresses.ts';
import { checkCorefile } from './coredns-check.ts';
import { federationZones } from './federation-zone.ts';
import {
  type DnsCluster,
  type ForwardProblem,
  forwardZonesFor,
  type NeededNamespace,
} from './forward-zones.ts';
import {
  mergeClusterDns,
  serviceDnsEndpoints,
  serviceDnsStatus,
  UnresolvedHostnameError,
} from './records.ts';
import { type CorefileOutcome, readCorefile, writeCorefileSection } from './writer.ts';

const dnsRef = (kind: string, plural: string): ResourceRef => ({
  group: DNS_GROUP,
  version: DNS_VERSION,
  kind,
  plural,
  namespaced: true,
});
export const SERVICE_DNS_RECORD_REF = dnsRef('ServiceDNSRecord', 'servicednsrecords');
export const DOMAIN_REF = dnsRef('Domain', 'domains');
export const DNS_ENDPOINT_REF = dnsRef('DNSEndpoint', 'dnsendpoints');

/** Condition types on a ServiceDNSRecord (fedctl additions; KubeFed had none). */
export const RECORDS_PUBLISHED = 'RecordsPublished';
export const FORWARD_ZONES_CONFIGURED = 'ForwardZonesConfigured';

const COREFILES_KEY = '#corefiles';
const RECHECK_MS = 30_000;

export interface DnsControllerOptions {
  host: ClusterClients;
  /** Namespace of the control plane, where Domains live. */
  namespace: string;
  members: () => Member[];
  isReady: (cluster: string) => boolean;
  log: Logger;
  metrics: Registry;
  /** coredns binary (or folder) used to check candidate Corefiles; default $FEDCTL_COREDNS or PATH. */
  corednsBinary?: string;
  /** Forward with TCP (force_tcp), for networks that drop UDP between clusters. */
  forceTcp?: boolean;
}

/** What the last Corefile pass found, per record key: the problems that concern it. */
type RecordProblems = Map<string, string[]>;

/**
 * Multi-cluster DNS: for every ServiceDNSRecord, collects the Service's addresses from each Ready
 * member into `status.dns`, writes the DNSEndpoint (`service-<name>`), and keeps one section of every
 * member's Corefile holding forward zones to the clusters that serve the records' Services and the
 * federation zones built from the DNSEndpoints.
 */
export class DnsController {
  readonly #o: DnsControllerOptions;
  readonly #log: Logger;
  readonly #queue = new WorkQueue();
  readonly #records: SupervisedInformer<ServiceDNSRecord & KubernetesObject>;
  readonly #domains: SupervisedInformer<Domain & KubernetesObject>;
  readonly #endpoints: SupervisedInformer<DNSEndpoint & KubernetesObject>;
  /** Clusters where each record's Service exists (the clusters other clusters must forward to). */
  readonly #serviceClusters = new Map<string, string[]>();
  #problems: RecordProblems = new Map();
  readonly #corefileOutcomes = new Map<string, CorefileOutcome>();
  #workers?: Workers;

  constructor(o: DnsControllerOptions) {
    this.#o = o;
    this.#log = o.log.with({ controller: 'dns' });
    const informer = <T extends KubernetesObject>(ref: ResourceRef, namespace?: string) =>
      new SupervisedInformer<T>({
        name: `${o.host.name}/${ref.plural}`,
        kc: o.host.kc,
        ref,
        namespace,
        logger: this.#log,
      });
    this.#records = informer(SERVICE_DNS_RECORD_REF);
    this.#domains = informer(DOMAIN_REF, o.namespace);
    this.#endpoints = informer(DNS_ENDPOINT_REF);
    for (const ev of ['add', 'update', 'delete'] as const) {
      this.#records.on(ev, (r) => {
        this.#queue.add(`${r.metadata?.namespace}/${r.metadata?.name}`);
        if (ev === 'delete') this.#queue.add(COREFILES_KEY);
      });
      this.#domains.on(ev, () => this.enqueueAll());
      this.#endpoints.on(ev, () => this.#queue.add(COREFILES_KEY));
    }
  }

  async start(): Promise<void> {
    await Promise.all([this.#records.start(), this.#domains.start(), this.#endpoints.start()]);
    const outcomes = this.#o.metrics.counter(
      'fedctl_corefile_writes_total',
      'Corefile section writes by cluster and outcome',
      ['cluster', 'outcome'],
    );
    this.#workers = runWorkers(
      this.#queue,
      4,
      async (key) => {
        if (key === COREFILES_KEY) {
          for (const [cluster, outcome] of await this.syncCorefiles())
            outcomes.inc({ cluster, outcome: outcome.outcome });
          return { requeueAfterMs: RECHECK_MS };
        }
        return this.syncRecord(key);
      },
      { onError: (key, err) => this.#log.warn('dns reconcile failed', { key, error: errorMessage(err) }) },
    );
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    await this.#workers?.stop();
    this.#records.stop();
    this.#domains.stop();
    this.#endpoints.stop();
  }

  /** Clusters joined, left or changed health. */
  enqueueAll(): void {
    for (const r of this.#records.list()) this.#queue.add(`${r.metadata?.namespace}/${r.metadata?.name}`);
    this.#queue.add(COREFILES_KEY);
  }

  #readyMembers(): Array<Member & { clients: ClusterClients }> {
    return this.#o
      .members()
      .filter(
        (m): m is Member & { clients: ClusterClients } => m.clients !== undefined && this.#o.isReady(m.name),
      );
  }

  /** One ServiceDNSRecord: per-cluster status, DNSEndpoint, conditions. */
  async syncRecord(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const record = this.#records.get(name, namespace);
    if (!record) {
      // Its DNSEndpoint is garbage-collected through the owner reference.
      this.#serviceClusters.delete(key);
      return undefined;
    }
    const now = new Date();
    let conditions = record.status?.conditions ?? [];
    const generation = record.metadata?.generation;
    const domain = this.#domains.get(record.spec.domainRef, this.#o.namespace);
    const status: NonNullable<ServiceDNSRecord['status']> = { ...(record.status ?? {}) };
    if (!domain) {
      conditions = setCondition(
        conditions,
        {
          type: RECORDS_PUBLISHED,
          status: 'False',
          reason: 'DomainNotFound',
          message: `Domain ${this.#o.namespace}/${record.spec.domainRef} not found`,
          observedGeneration: generation,
        },
        now,
      );
      await this.#writeStatus(record, { ...status, conditions });
      return { requeueAfterMs: RECHECK_MS };
    }

    const members = this.#o.members();
    const ready = this.#readyMembers();
    const decisions = await Promise.all(ready.map((m) => this.#clusterDns(m, record)));
    const clusterDns: ClusterDNS[] = [];
    const withService: string[] = [];
    const failures: string[] = [];
    for (const d of decisions) {
      if ('error' in d) failures.push(d.error);
      else {
        clusterDns.push(d.dns);
        if (d.exists) withService.push(d.dns.cluster ?? '');
      }
    }
    const offline = members.filter((m) => !ready.includes(m as never)).map((m) => m.name);
    status.domain = domain.domain;
    status.dns = mergeClusterDns(clusterDns, record.status?.dns ?? [], offline);
    status.observedGeneration = generation;
    const previousClusters = this.#serviceClusters.get(key)?.join(',');
    this.#serviceClusters.set(key, withService.sort());
    if (previousClusters !== withService.join(',')) this.#queue.add(COREFILES_KEY);

    try {
      const endpoints = serviceDnsEndpoints(record, { domain, dns: status.dns });
      await ensureObject(this.#o.host.kc, DNS_ENDPOINT_REF, {
        apiVersion: `${DNS_GROUP}/${DNS_VERSION}`,
        kind: 'DNSEndpoint',
        metadata: {
          name: `service-${name}`,
          namespace,
          ownerReferences: [
            {
              apiVersion: `${DNS_GROUP}/${DNS_VERSION}`,
              kind: 'ServiceDNSRecord',
              name,
              uid: record.metadata?.uid ?? '',
              controller: true,
              blockOwnerDeletion: false,
            },
          ],
        },
        spec: { endpoints },
      } as KubernetesObject);
      conditions = setCondition(
        conditions,
        failures.length > 0
          ? {
              type: RECORDS_PUBLISHED,
              status: 'False',
              reason: 'ClusterRetrievalFailed',
              message: failures.join('; '),
              observedGeneration: generation,
            }
          : {
              type: RECORDS_PUBLISHED,
              status: 'True',
              reason: 'RecordsWritten',
              message: `${endpoints.length} records in DNSEndpoint service-${name}`,
              observedGeneration: generation,
            },
        now,
      );
    } catch (e) {
      const reason = e instanceof UnresolvedHostnameError ? 'UnresolvedHostname' : 'RecordsFailed';
      conditions = setCondition(
        conditions,
        {
          type: RECORDS_PUBLISHED,
          status: 'False',
          reason,
          message: errorMessage(e),
          observedGeneration: generation,
        },
        now,
      );
    }
    const problems = this.#problems.get(key) ?? [];
    conditions = setCondition(
      conditions,
      problems.length > 0
        ? {
            type: FORWARD_ZONES_CONFIGURED,
            status: 'False',
            reason: problems[0]!.split(':')[0]!,
            message: problems.join('; '),
            observedGeneration: generation,
          }
        : {
            type: FORWARD_ZONES_CONFIGURED,
            status: 'True',
            reason: 'CorefilesUpdated',
            message: `forwarding to ${withService.join(', ') || 'no cluster'}`,
            observedGeneration: generation,
          },
      now,
    );
    await this.#writeStatus(record, { ...status, conditions });
    return { requeueAfterMs: RECHECK_MS };
  }

  async #clusterDns(
    m: Member & { clients: ClusterClients },
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
            .makeApiClient((await import('@kubernetes/client-node')).DiscoveryV1Api)
            .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` })
        : { items: [] as V1EndpointSlice[] };
      const ready = slices.items.some((s) =>
        (s.endpoints ?? []).some((ep) => ep.conditions?.ready !== false),
      );
      const nodes = await m.clients.core.listNode();
      const { region, zones } = topologyOf(nodes.items);
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

  async #writeStatus(
    record: ServiceDNSRecord & KubernetesObject,
    status: NonNullable<ServiceDNSRecord['status']>,
  ): Promise<void> {
    if (JSON.stringify(record.status ?? {}) === JSON.stringify(status)) return;
    await patchStatus(
      this.#o.host.kc,
      SERVICE_DNS_RECORD_REF,
      record.metadata.name,
      record.metadata.namespace,
      status,
    );
  }

  /** The DNS view of a member: domain (annotation, else its Corefile) and addresses. */
  async #dnsCluster(
    m: Member & { clients: ClusterClients },
  ): Promise<{ cluster: DnsCluster; corefile?: string }> {
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
        .makeApiClient((await import('@kubernetes/client-node')).DiscoveryV1Api)
        .listNamespacedEndpointSlice({
          namespace: 'kube-system',
          labelSelector: 'kubernetes.io/service-name=kube-dns',
        })
        .catch(() => ({ items: [] as V1EndpointSlice[] }));
      kubeDns = slices.items.flatMap((s) =>
        (s.endpoints ?? []).filter((ep) => ep.conditions?.ready !== false).flatMap((ep) => ep.addresses),
      );
    }
    const { addresses } = dnsAddresses({
      annotations: m.cluster.metadata?.annotations,
      labelledServices: labelled.items,
      kubeDnsEndpoints: kubeDns,
    });
    return { cluster: { name: m.name, domain, dnsServers: addresses }, corefile: corefile?.corefile };
  }

  /** Every Ready member's Corefile section: forward zones plus federation zones. */
  async syncCorefiles(): Promise<Map<string, CorefileOutcome>> {
    const ready = this.#readyMembers();
    const views = await Promise.all(ready.map((m) => this.#dnsCluster(m)));
    // A cluster whose domain or addresses are not clean (hostile annotation, odd discovery) is left
    // out with a reason; validating each alone keeps one bad cluster from stopping the others.
    const invalid = new Map<string, string>();
    for (const v of views) {
      try {
        forwardZonesFor([v.cluster]);
      } catch (e) {
        invalid.set(v.cluster.name, errorMessage(e));
      }
    }
    const clusters = views.map((v) => v.cluster).filter((c) => !invalid.has(c.name));
    const known = new Set(ready.map((m) => m.name));
    const needed: NeededNamespace[] = [];
    const recordsByNeed = new Map<string, string[]>();
    for (const [key, where] of this.#serviceClusters) {
      const namespace = key.split('/')[0] ?? '';
      for (const cluster of where) {
        if (!known.has(cluster)) continue;
        needed.push({ cluster, namespace });
        const k = `${cluster}/${namespace}`;
        recordsByNeed.set(k, [...(recordsByNeed.get(k) ?? []), key]);
      }
    }
    const domains = this.#domains.list();
    const federation = federationZones(domains, this.#endpoints.list());
    const problems: RecordProblems = new Map();
    const blame = (clustersInvolved: string[], text: string) => {
      for (const [k, keys] of recordsByNeed) {
        if (!clustersInvolved.includes(k.split('/')[0] ?? '')) continue;
        for (const key of keys) problems.set(key, [...new Set([...(problems.get(key) ?? []), text])]);
      }
    };
    for (const [cluster, message] of invalid) blame([cluster], `InvalidClusterDNS: ${message}`);
    const valid = new Set(clusters.map((c) => c.name));
    const result = forwardZonesFor(clusters, {
      needed: needed.filter((n) => valid.has(n.cluster)),
      forceTcp: this.#o.forceTcp,
      federationZones: federation.zones.map((z) => z.zone),
    });
    for (const p of result.problems as ForwardProblem[]) blame(p.clusters, `${p.reason}: ${p.message}`);
    const outcomes = new Map<string, CorefileOutcome>();
    await Promise.all(
      ready.map(async (m) => {
        const plan = result.plans.find((p) => p.cluster === m.name);
        const outcome = await writeCorefileSection(
          m.clients,
          { zones: plan?.zones ?? [], records: federation.zones },
          { check: (c) => checkCorefile(c, { binary: this.#o.corednsBinary }) },
        ).catch(
          (e: unknown): CorefileOutcome => ({
            outcome: 'refused',
            reason: 'WriteFailed',
            message: errorMessage(e),
          }),
        );
        outcomes.set(m.name, outcome);
        this.#corefileOutcomes.set(m.name, outcome);
        if (outcome.outcome === 'refused') {
          this.#log.warn('corefile section refused', {
            cluster: m.name,
            reason: outcome.reason,
            message: outcome.message,
          });
          // Every record forwarding into or out of this cluster is affected.
          blame([m.name, ...known], `${outcome.reason}: cluster ${m.name}: ${outcome.message}`);
        } else if (outcome.outcome === 'updated')
          this.#log.info('corefile section updated', { cluster: m.name });
      }),
    );
    const changed = [...new Set([...problems.keys(), ...this.#problems.keys()])].filter(
      (k) => (problems.get(k) ?? []).join() !== (this.#problems.get(k) ?? []).join(),
    );
    this.#problems = problems;
    for (const k of changed) this.#queue.add(k);
    return outcomes;
  }
}
