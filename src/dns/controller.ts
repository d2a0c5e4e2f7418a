import type { KubernetesObject } from '@kubernetes/client-node';
import { setCondition } from '../api/conditions.ts';
import { DNS_GROUP, DNS_VERSION } from '../api/constants.ts';
import type {
  ClusterDNS,
  ClusterIngressDNS,
  DNSEndpoint,
  Domain,
  Endpoint,
  IngressDNSRecord,
  LoadBalancerStatus,
  ServiceDNSRecord,
} from '../api/dns.ts';
import { sameJson } from '../api/json.ts';
import type { Member } from '../clusters/registry.ts';
import { ensureObject } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import { patchStatus, type ResourceRef, tryGetResource } from '../kube/resources.ts';
import { runWorkers, type Workers, WorkQueue } from '../kube/workqueue.ts';
import { dnsClusterOf, serviceInCluster } from './cluster-view.ts';
import { checkCorefile } from './coredns-check.ts';
import { planCorefiles, type RecordProblems } from './plan.ts';
import {
  desiredDnsEndpoint,
  ingressDnsEndpoints,
  loadBalancerHostnames,
  mergeClusterDns,
  serviceDnsEndpoints,
  UnresolvedHostnameError,
} from './records.ts';
import { resolveHostnames } from './resolve.ts';
import { type CorefileOutcome, writeCorefileSection } from './writer.ts';

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
export const INGRESS_DNS_RECORD_REF = dnsRef('IngressDNSRecord', 'ingressdnsrecords');
const INGRESS_REF: ResourceRef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
};
/** Queue keys of IngressDNSRecords carry this prefix (ServiceDNSRecords use a bare namespace/name). */
const INGRESS_KEY = 'ingress:';

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
  readonly #ingressRecords: SupervisedInformer<IngressDNSRecord & KubernetesObject>;
  readonly #domains: SupervisedInformer<Domain & KubernetesObject>;
  readonly #endpoints: SupervisedInformer<DNSEndpoint & KubernetesObject>;
  /** Clusters where each record's Service exists (the clusters other clusters must forward to). */
  readonly #serviceClusters = new Map<string, string[]>();
  #problems: RecordProblems = new Map();
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
    this.#ingressRecords = informer(INGRESS_DNS_RECORD_REF);
    this.#domains = informer(DOMAIN_REF, o.namespace);
    this.#endpoints = informer(DNS_ENDPOINT_REF);
    for (const ev of ['add', 'update', 'delete'] as const) {
      this.#records.on(ev, (r) => {
        this.#queue.add(`${r.metadata?.namespace}/${r.metadata?.name}`);
        if (ev === 'delete') this.#queue.add(COREFILES_KEY);
      });
      this.#ingressRecords.on(ev, (r) =>
        this.#queue.add(`${INGRESS_KEY}${r.metadata?.namespace}/${r.metadata?.name}`),
      );
      this.#domains.on(ev, () => this.enqueueAll());
      this.#endpoints.on(ev, () => this.#queue.add(COREFILES_KEY));
    }
  }

  async start(): Promise<void> {
    await Promise.all([
      this.#records.start(),
      this.#ingressRecords.start(),
      this.#domains.start(),
      this.#endpoints.start(),
    ]);
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
        if (key.startsWith(INGRESS_KEY)) return this.syncIngressRecord(key.slice(INGRESS_KEY.length));
        return this.syncRecord(key);
      },
      { onError: (key, err) => this.#log.warn('dns reconcile failed', { key, error: errorMessage(err) }) },
    );
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    await this.#workers?.stop();
    this.#records.stop();
    this.#ingressRecords.stop();
    this.#domains.stop();
    this.#endpoints.stop();
  }

  /** Clusters joined, left or changed health. */
  enqueueAll(): void {
    for (const r of this.#records.list()) this.#queue.add(`${r.metadata?.namespace}/${r.metadata?.name}`);
    for (const r of this.#ingressRecords.list())
      this.#queue.add(`${INGRESS_KEY}${r.metadata?.namespace}/${r.metadata?.name}`);
    this.#queue.add(COREFILES_KEY);
  }

  #readyMembers(): Array<Member & { clients: ClusterClients }> {
    return this.#o
      .members()
      .filter(
        (m): m is Member & { clients: ClusterClients } => m.clients !== undefined && this.#o.isReady(m.name),
      );
  }

  /**
   * One IngressDNSRecord (KubeFed v0.6.1): the load balancers of the same-named Ingress in every Ready
   * member into `status.dns`, and A records for its hosts in DNSEndpoint `ingress-<name>`.
   */
  async syncIngressRecord(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const record = this.#ingressRecords.get(name, namespace);
    if (!record) return undefined;
    const generation = record.metadata?.generation;
    const failures: string[] = [];
    const found = await Promise.all(
      this.#readyMembers().map(async (m): Promise<ClusterIngressDNS | undefined> => {
        try {
          const ingress = (await tryGetResource(m.clients.kc, INGRESS_REF, name, namespace)) as
            | { status?: { loadBalancer?: LoadBalancerStatus } }
            | undefined;
          return ingress ? { cluster: m.name, loadBalancer: ingress.status?.loadBalancer ?? {} } : undefined;
        } catch (e) {
          failures.push(`cluster ${m.name}: ${errorMessage(e)}`);
          return undefined;
        }
      }),
    );
    const dns = found
      .filter((d): d is ClusterIngressDNS => d !== undefined)
      .sort((a, b) => (a.cluster ?? '').localeCompare(b.cluster ?? ''));
    const condition = await publishRecords(this.#o.host, 'ingress', record, dns, failures, (resolved) =>
      ingressDnsEndpoints(record, { dns, resolved }),
    );
    const status = {
      dns,
      observedGeneration: generation,
      conditions: setCondition(record.status?.conditions ?? [], condition, new Date()),
    };
    if (!sameJson(record.status ?? {}, status)) {
      await patchStatus(this.#o.host.kc, INGRESS_DNS_RECORD_REF, name, namespace, status);
    }
    return { requeueAfterMs: RECHECK_MS };
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
    const decisions = await Promise.all(ready.map((m) => serviceInCluster(m, record)));
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

    conditions = setCondition(
      conditions,
      await publishRecords(this.#o.host, 'service', record, status.dns, failures, (resolved) =>
        serviceDnsEndpoints(record, { domain, dns: status.dns, resolved }),
      ),
      now,
    );
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

  async #writeStatus(
    record: ServiceDNSRecord & KubernetesObject,
    status: NonNullable<ServiceDNSRecord['status']>,
  ): Promise<void> {
    if (sameJson(record.status ?? {}, status)) return;
    await patchStatus(
      this.#o.host.kc,
      SERVICE_DNS_RECORD_REF,
      record.metadata.name,
      record.metadata.namespace,
      status,
    );
  }

  /** Every Ready member's Corefile section: forward zones plus federation zones. */
  async syncCorefiles(): Promise<Map<string, CorefileOutcome>> {
    const ready = this.#readyMembers();
    const views = await Promise.all(ready.map((m) => dnsClusterOf(m)));
    const plan = planCorefiles({
      clusters: views.map((v) => v.cluster),
      serviceClusters: this.#serviceClusters,
      domains: this.#domains.list(),
      dnsEndpoints: this.#endpoints.list(),
      forceTcp: this.#o.forceTcp,
    });
    const { problems, blame } = plan;
    const known = ready.map((m) => m.name);
    const outcomes = new Map<string, CorefileOutcome>();
    await Promise.all(
      ready.map(async (m) => {
        const outcome = await writeCorefileSection(m.clients, plan.sections.get(m.name) ?? { zones: [] }, {
          check: (c) => checkCorefile(c, { binary: this.#o.corednsBinary }),
        }).catch(
          (e: unknown): CorefileOutcome => ({
            outcome: 'refused',
            reason: 'WriteFailed',
            message: errorMessage(e),
          }),
        );
        outcomes.set(m.name, outcome);
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

/** The DNSEndpoint beside a record (`service-<name>` or `ingress-<name>`), owned by it so it goes with it. */
async function writeDnsEndpoint(
  host: ClusterClients,
  kind: 'service' | 'ingress',
  record: { metadata: { name: string; namespace?: string; uid?: string } },
  endpoints: Endpoint[],
): Promise<void> {
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
  await ensureObject(host.kc, DNS_ENDPOINT_REF, desired as KubernetesObject);
}

/**
 * Resolve load-balancer host names (KubeFed published their addresses as A records), compute the
 * records, write the DNSEndpoint, and say so as the RecordsPublished condition.
 */
async function publishRecords(
  host: ClusterClients,
  kind: 'service' | 'ingress',
  record: { metadata: { name: string; namespace?: string; uid?: string; generation?: number } },
  dns: readonly { loadBalancer?: LoadBalancerStatus }[],
  failures: readonly string[],
  endpointsFor: (resolved: Awaited<ReturnType<typeof resolveHostnames>>['resolved']) => Endpoint[],
): Promise<Parameters<typeof setCondition>[1]> {
  const observedGeneration = record.metadata.generation;
  try {
    const { resolved } = await resolveHostnames(loadBalancerHostnames(dns));
    const endpoints = endpointsFor(resolved);
    await writeDnsEndpoint(host, kind, record, endpoints);
    return failures.length > 0
      ? {
          type: RECORDS_PUBLISHED,
          status: 'False',
          reason: 'ClusterRetrievalFailed',
          message: failures.join('; '),
          observedGeneration,
        }
      : {
          type: RECORDS_PUBLISHED,
          status: 'True',
          reason: 'RecordsWritten',
          message: `${endpoints.length} records in DNSEndpoint ${kind}-${record.metadata.name}`,
          observedGeneration,
        };
  } catch (e) {
    const reason = e instanceof UnresolvedHostnameError ? 'UnresolvedHostname' : 'RecordsFailed';
    return { type: RECORDS_PUBLISHED, status: 'False', reason, message: errorMessage(e), observedGeneration };
  }
}
