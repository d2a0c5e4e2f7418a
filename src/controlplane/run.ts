import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeFedConfig, KubeFedConfigSpec } from '../api/types.ts';
import { HealthProber, type HealthSettings } from '../clusters/health.ts';
import { MemberCache } from '../clusters/member-cache.ts';
import { ClusterRegistry } from '../clusters/registry.ts';
import { apiDnsWriter, DnsController, dnsHostInformers } from '../dns/controller.ts';
import { useDnsCaches } from '../dns/inputs.ts';
import { ensureObject, retryTransient } from '../kube/apply.ts';
import { type ClusterClients, withOwnConnections } from '../kube/clients.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import { campaign } from '../kube/leader.ts';
import type { Logger } from '../kube/logger.ts';
import { Registry } from '../kube/metrics.ts';
import { KUBEFEDCLUSTER_REF, KUBEFEDCONFIG_REF, NAMESPACE_REF } from '../kube/refs.ts';
import { patchStatus, tryGetResource } from '../kube/resources.ts';
import {
  apiSchedulingWriter,
  SchedulingController,
  schedulingHostInformers,
  useWorkloadCaches,
} from '../scheduling/controller.ts';
import { installControlPlane, KUBEFEDCONFIG_NAME } from './install.ts';
import { TypeManager } from './type-manager.ts';

export interface ControlPlaneOptions {
  host: ClusterClients;
  namespace: string;
  log: Logger;
  /** Aborts a start in progress (leadership lost, shutdown): install stops retrying. */
  signal?: AbortSignal;
  /** Skip installing CRDs and default type configs (they are managed elsewhere, e.g. GitOps). */
  skipInstall?: boolean;
  workers?: number;
  resyncMs?: number;
  /** Time limit of one member request (default 30 s); a member judged not ready ends the wait sooner. */
  operationTimeoutMs?: number;
  healthPeriodMs?: number;
  /** coredns binary (or folder) that checks candidate Corefiles before they are written. */
  corednsBinary?: string;
  /** Forward cross-cluster DNS over TCP. */
  dnsForceTcp?: boolean;
}

export interface RunningControlPlane {
  registry: ClusterRegistry;
  types: TypeManager;
  dns: DnsController;
  prober: HealthProber;
  /** The shared view of members (one informer per cluster and resource). */
  memberCache: MemberCache;
  metrics: Registry;
  stop(): Promise<void>;
}

/** Go duration strings as KubeFedConfig uses them ("10s", "1m30s", "500ms") to milliseconds. */
export function parseDuration(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1000);
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? total : fallbackMs;
}

/** Pure: the health prober's settings from a KubeFedConfig's clusterHealthCheck (KubeFed's defaults). */
export function healthSettings(
  check: KubeFedConfigSpec['clusterHealthCheck'] | undefined,
  periodOverrideMs?: number,
): HealthSettings {
  return {
    periodMs: periodOverrideMs ?? parseDuration(check?.period, 10_000),
    timeoutMs: parseDuration(check?.timeout, 3_000),
    thresholds: {
      failureThreshold: check?.failureThreshold ?? 3,
      successThreshold: check?.successThreshold ?? 1,
    },
  };
}

/**
 * The host controller: installs the API, tracks members and their health, runs the sync controllers.
 * Everything it starts is stopped again if a later step fails, so a supervisor can retry the start.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const started: Array<() => unknown> = [];
  try {
    return await startParts(opts, started);
  } catch (e) {
    for (const stop of started.reverse()) {
      try {
        await stop();
      } catch (err) {
        opts.log.warn('cleaning up after a failed start', { error: String(err) });
      }
    }
    throw e;
  }
}

/** `started` collects the stop function of each part as it starts. */
async function startParts(
  opts: ControlPlaneOptions,
  started: Array<() => unknown>,
): Promise<RunningControlPlane> {
  const { host, namespace, log } = opts;
  if (!opts.skipInstall) await installControlPlane(host, namespace, { log, signal: opts.signal });

  const metrics = new Registry();
  const rss = metrics.gauge('process_resident_memory_bytes', 'Resident memory of the controller process');
  const heap = metrics.gauge('nodejs_heap_used_bytes', 'V8 heap in use');
  // Where resident memory goes beyond live objects: V8's reserved heap, and memory outside it
  // (Buffers, TLS, HTTP parsers).
  const heapTotal = metrics.gauge('nodejs_heap_total_bytes', 'V8 heap reserved');
  const external = metrics.gauge(
    'nodejs_external_memory_bytes',
    'Memory held by V8 objects outside the heap',
  );
  metrics.onCollect(() => {
    const m = process.memoryUsage();
    rss.set({}, m.rss);
    heap.set({}, m.heapUsed);
    heapTotal.set({}, m.heapTotal);
    external.set({}, m.external);
  });
  const config = new SupervisedInformer<KubeFedConfig & KubernetesObject>({
    name: `${host.name}/kubefedconfigs`,
    kc: host.kc,
    ref: KUBEFEDCONFIG_REF,
    namespace,
    logger: log,
  });
  started.push(() => config.stop());
  await config.start();
  const kubefedConfig = () => config.get(KUBEFEDCONFIG_NAME, namespace) ?? config.list()[0];

  const registry = new ClusterRegistry({ host, namespace, log });
  started.push(() => registry.stop());
  await registry.start();

  const memberCache = new MemberCache({ log, metrics, resyncMs: opts.resyncMs });
  const dnsHost = dnsHostInformers(host, namespace, log);
  const schedulingHost = schedulingHostInformers(host, log);
  started.push(() => Promise.all([dnsHost.stop(), schedulingHost.stop(), memberCache.stop()]));
  let types: TypeManager | undefined;
  let dns: DnsController | undefined;
  let scheduling: SchedulingController | undefined;
  const clusterReady = metrics.gauge('fedctl_cluster_ready', 'Member cluster readiness (1 Ready, 0 not)', [
    'cluster',
  ]);
  const prober = new HealthProber({
    ...healthSettings(kubefedConfig()?.spec?.clusterHealthCheck, opts.healthPeriodMs),
    members: () => registry.members(),
    log,
    writeStatus: async (name, status) => {
      await patchStatus(host.kc, KUBEFEDCLUSTER_REF, name, namespace, status);
    },
    onChange: (name, ready) => {
      clusterReady.set({ cluster: name }, ready ? 1 : 0);
      log.info('cluster readiness changed', { cluster: name, ready });
      memberCache.sync(registry.members(), (n) => prober.isReady(n));
      types?.clustersChanged();
      dns?.clustersChanged();
      scheduling?.clustersChanged();
    },
  });
  started.push(() => prober.stop());
  // Edits to clusterHealthCheck apply at once, without a restart (issue #9).
  const reconfigureHealth = () =>
    prober.configure(healthSettings(kubefedConfig()?.spec?.clusterHealthCheck, opts.healthPeriodMs));
  for (const ev of ['add', 'update', 'delete'] as const) config.on(ev, reconfigureHealth);
  await prober.probeNow();
  prober.start();

  // KubeFedConfig scope is immutable (the CRD refuses a change), so it is read once.
  const scope = kubefedConfig()?.spec?.scope === 'Namespaced' ? 'Namespaced' : 'Cluster';
  if (scope === 'Namespaced')
    log.info('scope Namespaced: federating only the control-plane namespace', { namespace });
  types = new TypeManager(
    namespace,
    {
      host,
      members: () => registry.members(),
      isReady: (name) => prober.isReady(name),
      memberCache,
      adoptResources: () => kubefedConfig()?.spec?.syncController?.adoptResources !== 'Disabled',
      controlPlaneNamespace: namespace,
      onSlowCluster: (name) => prober.suspect(name),
      lostSignal: (name) => prober.lostSignal(name),
      operationTimeoutMs: opts.operationTimeoutMs,
      log,
      metrics,
      workers: opts.workers,
      resyncMs: opts.resyncMs,
    },
    { scope },
  );
  registry.onChange(() => {
    void prober.probeNow();
    memberCache.sync(registry.members(), (n) => prober.isReady(n));
    types?.clustersChanged();
    dns?.clustersChanged();
    scheduling?.clustersChanged();
  });
  started.push(() => types?.stop());
  // Watch the members before the type controllers start; what each reader declares with use() (now
  // or later) is started in every watched member: one informer per (cluster, resource).
  memberCache.sync(registry.members(), (n) => prober.isReady(n));
  await types.start();
  const dnsCaches = useDnsCaches(memberCache);
  const workloads = useWorkloadCaches(memberCache);
  await Promise.all([dnsHost.start(), schedulingHost.start()]);
  dns = new DnsController({
    namespace,
    members: () => registry.members(),
    isReady: (name) => prober.isReady(name),
    host: dnsHost,
    caches: dnsCaches,
    writer: apiDnsWriter({
      host,
      members: () => registry.members(),
      configMaps: dnsCaches.configMaps,
      corednsBinary: opts.corednsBinary,
    }),
    log,
    metrics,
    forceTcp: opts.dnsForceTcp,
  });
  started.push(() => dns?.stop());
  dns.start();
  scheduling = new SchedulingController({
    members: () => registry.members(),
    isReady: (name) => prober.isReady(name),
    rsps: schedulingHost.rsps,
    targets: schedulingHost.targets,
    workloads,
    writer: apiSchedulingWriter(host),
    log,
    metrics,
  });
  started.push(() => scheduling?.stop());
  scheduling.start();

  const queueDepth = metrics.gauge('fedctl_workqueue_depth', 'Keys waiting in each type controller queue', [
    'type',
  ]);
  // Read at scrape time: nothing to poll between scrapes.
  metrics.onCollect(() => {
    for (const c of types?.controllers() ?? []) queueDepth.set({ type: c.federated.kind }, c.queueLength());
  });

  return {
    registry,
    types,
    dns,
    prober,
    memberCache,
    metrics,
    async stop() {
      prober.stop();
      await scheduling?.stop();
      await dns?.stop();
      await types?.stop();
      await Promise.all([dnsHost.stop(), schedulingHost.stop(), memberCache.stop()]);
      registry.stop();
      config.stop();
    },
  };
}

/**
 * Campaign for the controller lease (`<namespace>/fedctl-controller`) with the durations of the
 * KubeFedConfig's leaderElect section (KubeFed defaults 15 s / 10 s / 5 s before one exists).
 */
export async function electLeader(
  host: ClusterClients,
  namespace: string,
  log: Logger,
  signal?: AbortSignal,
) {
  const config = (await tryGetResource(host.kc, KUBEFEDCONFIG_REF, KUBEFEDCONFIG_NAME, namespace).catch(
    () => undefined,
  )) as (KubeFedConfig & KubernetesObject) | undefined;
  const le = config?.spec?.leaderElect;
  // The lease lives in the control-plane namespace, which install creates only once we lead. The host
  // may be unreachable right now: that is a wait, not a reason to exit.
  await retryTransient(
    `creating namespace ${namespace} in host ${host.name}`,
    () =>
      ensureObject(host.kc, NAMESPACE_REF, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      }),
    { log, signal },
  );
  const identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const election = campaign({
    kc: withOwnConnections(host.kc),
    namespace,
    name: 'fedctl-controller',
    identity,
    leaseDurationMs: parseDuration(le?.leaseDuration, 15_000),
    renewDeadlineMs: parseDuration(le?.renewDeadline, 10_000),
    retryPeriodMs: parseDuration(le?.retryPeriod, 5_000),
    log,
  });
  log.info('waiting to become leader', { lease: `${namespace}/fedctl-controller`, identity });
  return election;
}
