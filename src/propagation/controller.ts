import type { KubernetesObject } from '@kubernetes/client-node';
import { apiVersionOf, MANAGED_LABEL, TYPES_GROUP } from '../api/constants.ts';
import { sameJson } from '../api/json.ts';
import type { FederatedTypeConfig } from '../api/types.ts';
import type { MemberCache, MemberResource } from '../clusters/member-cache.ts';
import type { Member } from '../clusters/registry.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { EventRecorder, eventWriterFor } from '../kube/events.ts';
import { SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import { OwnWrites } from '../kube/own-writes.ts';
import { NAMESPACE_REF, objectKey, type ResourceRef, splitKey } from '../kube/refs.ts';
import {
  createResource,
  deleteResource,
  getResource,
  patchResource,
  patchStatus,
  replaceResource,
  tryGetResource,
} from '../kube/resources.ts';
import { Runner } from '../kube/runner.ts';
import { splitApiVersion } from './retention.ts';
import {
  type FederatedObject,
  type MemberView,
  type NamespacePlacement,
  type SyncContext,
  type SyncResult,
  syncFederatedObject,
} from './sync.ts';

/** What a type controller needs from the rest of the control plane. */
export interface TypeControllerDeps {
  host: ClusterClients;
  members: () => Member[];
  isReady: (cluster: string) => boolean;
  /** The shared view of every member: managed copies are read from it, never from a private informer. */
  memberCache: Pick<MemberCache, 'use'>;
  /** Where a namespace is federated (unknown until the FederatedNamespace cache has synced). */
  namespacePlacement: (namespace: string) => NamespacePlacement;
  /** The control-plane namespace (never touched as a member Namespace). */
  controlPlaneNamespace?: string;
  /**
   * KubeFedConfig scope Namespaced: the one namespace watched, in the host and in the members (whose
   * accounts may hold only a Role there). Undefined: every namespace.
   */
  watchNamespace?: string;
  adoptResources: () => boolean;
  log: Logger;
  metrics: Registry;
  workers?: number;
  resyncMs?: number;
  operationTimeoutMs?: number;
  /** A member request has been waiting over a second: ask the health prober to look now. */
  onSlowCluster?: (cluster: string) => void;
  /** Aborts when a member is judged not ready (requests waiting on it give up). */
  lostSignal?: (cluster: string) => AbortSignal;
  /** Minimum time between status writes of one object caused only by member workload changes. */
  statusMinIntervalMs?: number;
}

/**
 * 5 s: a rollout makes every member report each pod becoming ready, so in 10 clusters a Deployment
 * of 30 replicas would otherwise write its federated status ~300 times. With the interval an object
 * gets at most 12 workload-only status writes a minute whatever the cluster count, and a user sees
 * readiness at most 5 s late. Propagation changes are never held back.
 */
export const STATUS_MIN_INTERVAL_MS = 5_000;

export function refsOf(ftc: FederatedTypeConfig): { target: ResourceRef; federated: ResourceRef } {
  const t = ftc.spec.targetType;
  const f = ftc.spec.federatedType;
  return {
    target: {
      group: t.group ?? '',
      version: t.version,
      kind: t.kind,
      plural: t.pluralName,
      namespaced: t.scope === 'Namespaced',
    },
    federated: {
      group: f.group ?? TYPES_GROUP,
      version: f.version,
      kind: f.kind,
      plural: f.pluralName,
      namespaced: f.scope === 'Namespaced',
    },
  };
}

/**
 * Propagates one federated type (one FederatedTypeConfig): a host informer on Federated<Kind>, the
 * shared member cache of the target kind (managed objects only; the same informers serve status
 * collection and scheduling), a de-duplicating rate-limited queue of `namespace/name` keys, and
 * workers running the sync reconciler.
 */
export class FederatedTypeController {
  readonly target: ResourceRef;
  readonly federated: ResourceRef;
  readonly #deps: TypeControllerDeps;
  readonly #log: Logger;
  readonly #runner: Runner;
  readonly #hostInformer: SupervisedInformer<FederatedObject>;
  readonly #copies: MemberResource;
  readonly #unsubscribe: Array<() => void> = [];
  /** What this controller knows of each federated object (by key) beyond the host cache, for a while. */
  readonly #recent = new Map<string, Recent>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #statusCollection: boolean;
  readonly #statusMinIntervalMs: number;
  readonly #events: EventRecorder;
  /** Our writes by federated key and place (a member's name, or HOST): their watch echoes enqueue nothing. */
  readonly #ownWrites = new OwnWrites((key) => this.#runner.enqueue(key));

  constructor(ftc: FederatedTypeConfig, deps: TypeControllerDeps) {
    const { target, federated } = refsOf(ftc);
    this.target = target;
    this.federated = federated;
    this.#deps = deps;
    this.#statusMinIntervalMs = deps.statusMinIntervalMs ?? STATUS_MIN_INTERVAL_MS;
    this.#log = deps.log.with({ type: federated.kind });
    this.#statusCollection = ftc.spec.statusCollection === 'Enabled';
    this.#events = new EventRecorder(eventWriterFor(deps.host.kc), { log: this.#log });
    this.#hostInformer = new SupervisedInformer<FederatedObject>({
      name: `${deps.host.name}/${federated.plural}`,
      kc: deps.host.kc,
      ref: federated,
      ...(deps.watchNamespace && federated.namespaced ? { namespace: deps.watchNamespace } : {}),
      resyncMs: deps.resyncMs,
      logger: this.#log,
    });
    const writes = deps.metrics.counter(
      'fedctl_member_writes_total',
      'Writes sent to member clusters and the host by type',
      ['type'],
    );
    // The `controller` label of the runtime's metrics is the federated kind.
    this.#runner = new Runner({
      name: federated.kind,
      log: this.#log,
      metrics: deps.metrics,
      workers: deps.workers ?? 8,
      keys: () => this.#hostInformer.list().map(objectKey),
      // A resync re-delivers every cached object unchanged (same resourceVersion). Enqueued at once, a
      // thousand of them would make a real change wait behind them; spread over a window they yield.
      resyncSpreadMs: resyncSpreadMs(deps.resyncMs),
      reconcile: async (key) => {
        const result = await this.reconcile(key);
        writes.inc({ type: this.federated.kind }, result.writes);
        // Not in sync yet and nothing scheduled: retried with the key's backoff, as any failure.
        if (result.retry && result.requeueAfterMs === undefined)
          throw new Error(
            `${this.federated.kind} ${key} is not in sync yet (a member call failed, a cache has not synced or a removal is pending)`,
          );
        return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
      },
    });
    this.#runner.watch(this.#hostInformer, (obj, ev) =>
      this.#keyUnlessEcho(objectKey(obj), HOST, obj, ev.type),
    );
    this.#copies = deps.memberCache.use(target, {
      ...(deps.watchNamespace && target.namespaced ? { namespace: deps.watchNamespace } : {}),
      labelSelector: `${MANAGED_LABEL}=true`,
    });
    this.#runner.watch(this.#copies, (obj, ev) =>
      this.#keyUnlessEcho(this.federatedKeyOf(obj), ev.cluster ?? '', obj, ev.type),
    );
    // A member's cache has listed: what it holds (or lacks) is known now, everything is looked at again.
    this.#unsubscribe.push(this.#copies.onSynced(() => this.enqueueAll()));
  }

  /** The key an event enqueues, or none for the echo of a write of ours (its reconcile already ran). */
  #keyUnlessEcho(key: string, place: string, obj: KubernetesObject, type: string): string | undefined {
    if (type !== 'delete' && this.#ownWrites.isEcho(key, place, obj.metadata?.resourceVersion))
      return undefined;
    return key;
  }

  /** Federated objects currently in the host cache (read-only). */
  federatedObjects(): FederatedObject[] {
    return this.#hostInformer.list();
  }

  /** One federated object from the host cache (read-only). */
  federatedObject(name: string, namespace?: string): FederatedObject | undefined {
    return this.#hostInformer.get(name, namespace);
  }

  /** Listen to changes of federated objects in the host (after they are enqueued). */
  onHostEvent(listener: (obj: FederatedObject) => void): void {
    for (const ev of ['add', 'update', 'delete'] as const) this.#hostInformer.on(ev, listener);
  }

  enqueue(key: string): void {
    this.#runner.enqueue(key);
  }

  enqueueAll(filter?: (obj: FederatedObject) => boolean): void {
    for (const obj of this.#hostInformer.list()) if (!filter || filter(obj)) this.enqueue(objectKey(obj));
  }

  queueLength(): number {
    return this.#runner.queue.len();
  }

  async start(): Promise<void> {
    await this.#hostInformer.start();
    this.#runner.start();
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), RECORD_SWEEP_MS);
    this.#sweeper.unref();
  }

  /** Stops this type's queue and host informer; the shared member caches stay for other readers. */
  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.#runner.stop();
    this.#hostInformer.stop();
  }

  /**
   * Drops what the host cache has caught up with (a status echo seen, versions in the status) or
   * what no longer matters (a status written longer ago than the minimum interval): one record per
   * federated object would otherwise stay for good, since echoes of our writes cause no reconcile.
   */
  #sweep(now: number): void {
    for (const [key, r] of this.#recent) {
      const [namespace, name] = splitKey(key);
      const cached = this.#hostInformer.get(name, namespace);
      if (!cached || cached.metadata?.uid !== r.uid) {
        this.#recent.delete(key);
        continue;
      }
      if (r.status && !sameJson(cached.status ?? null, r.status.before ?? null)) r.status = undefined;
      if (r.statusAt !== undefined && now - r.statusAt >= this.#statusMinIntervalMs) r.statusAt = undefined;
      for (const [cluster, version] of r.versions ?? [])
        if (cached.status?.clusters?.find((c) => c.name === cluster)?.version === version)
          r.versions?.delete(cluster);
      if (r.versions?.size === 0) r.versions = undefined;
      if (!r.status && r.statusAt === undefined && !r.versions) this.#recent.delete(key);
    }
  }

  /** The record of `key`, started afresh when the object behind the key is another one (new uid). */
  #recentOf(key: string, uid: string): Recent {
    let r = this.#recent.get(key);
    if (!r || r.uid !== uid) {
      r = { uid };
      this.#recent.set(key, r);
    }
    return r;
  }

  /**
   * The key of the federated object behind a member object: same namespace and name, except that a
   * FederatedNamespace `x` lives in namespace `x` while its Namespace is cluster-scoped.
   */
  federatedKeyOf(obj: KubernetesObject): string {
    return federatedKeyFor(this.target, this.federated, obj);
  }

  /** The host cache of federated objects has synced (an absent object then proves it is gone). */
  hostSynced(): boolean {
    return this.#hostInformer.hasSynced();
  }

  async reconcile(key: string): Promise<SyncResult> {
    const [namespace, name] = splitKey(key);
    const cached = this.#hostInformer.get(name, namespace);
    const fed = this.#withLastStatus(key, cached);
    const all = this.#deps.members();
    const members: MemberView[] = all.map((m) => {
      // A cache lists once and keeps its content while its member is unreachable (it retries).
      const synced = this.#copies.synced(m.name);
      return {
        name: m.name,
        labels: m.labels,
        ready: this.#deps.isReady(m.name) && m.clients !== undefined,
        synced,
        everSynced: synced,
        cached: (n: string, ns?: string) => this.#copies.get(m.name, n, ns),
      };
    });
    const uid = fed?.metadata?.uid ?? '';
    const clientOf = (cluster: string) => {
      const kc = all.find((m) => m.name === cluster)?.clients?.kc;
      if (!kc) throw new Error(`cluster ${cluster} has no client`);
      return kc;
    };
    const ctx: SyncContext = {
      target: {
        apiVersion: apiVersionOf(this.target.group, this.target.version),
        kind: this.target.kind,
        namespaced: this.target.namespaced,
      },
      members,
      adoptResources: this.#deps.adoptResources(),
      operationTimeoutMs: this.#deps.operationTimeoutMs ?? 30_000,
      namespacePlacement: this.target.namespaced ? this.#deps.namespacePlacement : undefined,
      controlPlaneNamespace: this.#deps.controlPlaneNamespace,
      recordedVersion: (c) => this.#known(key, uid)?.versions?.get(c),
      statusCollection: this.#statusCollection,
      statusMinIntervalMs: this.#statusMinIntervalMs,
      lastStatusWriteAt: () => this.#known(key, uid)?.statusAt,
      recordEvents: (obj, events) => {
        const subject = {
          ...obj,
          apiVersion: apiVersionOf(this.federated.group, this.federated.version),
          kind: this.federated.kind,
        };
        for (const e of events) void this.#events.record(subject, e.type, e.reason, e.message);
      },
      onSlow: this.#deps.onSlowCluster,
      lostSignal: this.#deps.lostSignal,
      log: this.#log,
      hostNamespaceUid: async (n) =>
        (await tryGetResource(this.#deps.host.kc, NAMESPACE_REF, n))?.metadata?.uid,
      memberWriter: {
        create: (c, obj) =>
          this.#ownWrites.write(key, c, () => createResource(clientOf(c), this.#refFor(obj), obj)),
        replace: (c, obj) =>
          this.#ownWrites.write(key, c, () => replaceResource(clientOf(c), this.#refFor(obj), obj)),
        delete: (c, obj, options) =>
          deleteResource(
            clientOf(c),
            this.target,
            obj.metadata?.name ?? '',
            obj.metadata?.namespace,
            options,
          ),
        get: async (c, n, ns) => getResource(clientOf(c), this.target, n, ns),
      },
      hostWriter: {
        setFinalizers: async (obj, finalizers) => {
          await this.#ownWrites.write(key, HOST, () =>
            patchResource(
              this.#deps.host.kc,
              this.federated,
              obj.metadata?.name ?? '',
              obj.metadata?.namespace,
              {
                metadata: { finalizers, resourceVersion: obj.metadata?.resourceVersion },
              },
            ),
          );
        },
        writeStatus: async (obj, status) => {
          await this.#ownWrites.write(key, HOST, () =>
            patchStatus(
              this.#deps.host.kc,
              this.federated,
              obj.metadata?.name ?? '',
              obj.metadata?.namespace,
              status,
            ),
          );
          const recent = this.#recentOf(key, uid);
          recent.statusAt = Date.now();
          this.#deps.metrics
            .counter('fedctl_status_writes_total', 'Status writes to federated objects by type', ['type'])
            .inc({ type: this.federated.kind });
          recent.status = { before: cached?.status, status };
        },
      },
    };
    // Without a synced host cache an absent object proves nothing: never touch "strays" then.
    if (!fed && !this.#hostInformer.hasSynced()) return { retry: true, writes: 0, versions: new Map() };
    const result = await syncFederatedObject(name, namespace, fed, ctx);
    if (!fed) {
      this.#recent.delete(key);
      this.#ownWrites.forget(key);
      return result;
    }
    for (const [cluster, version] of result.versions) {
      if (version === null) this.#known(key, uid)?.versions?.delete(cluster);
      else {
        const recent = this.#recentOf(key, uid);
        recent.versions ??= new Map();
        recent.versions.set(cluster, version);
      }
    }
    return result;
  }

  /** The record of `key` if it is about the object with this uid. */
  #known(key: string, uid: string): Recent | undefined {
    const r = this.#recent.get(key);
    return r?.uid === uid ? r : undefined;
  }

  /**
   * The cached federated object, with the status this controller last wrote if the cache has not
   * caught up with that write yet (otherwise the same status would be written again).
   */
  #withLastStatus(key: string, fed: FederatedObject | undefined): FederatedObject | undefined {
    const recent = fed ? this.#known(key, fed.metadata?.uid ?? '') : undefined;
    const last = recent?.status;
    if (!fed || !recent || !last) return fed;
    if (!sameJson(fed.status ?? null, last.before ?? null)) {
      recent.status = undefined;
      return fed;
    }
    return { ...fed, status: last.status };
  }

  /** The template may name another served version of the target (KubeFed honoured it). */
  #refFor(obj: KubernetesObject): ResourceRef {
    const { group, version } = splitApiVersion(obj.apiVersion ?? '');
    if (group !== this.target.group || version === '' || version === this.target.version) return this.target;
    return { ...this.target, version };
  }
}

/** What a type controller remembers of one federated object (by key) until the host cache catches up. */
interface Recent {
  /** The federated object's uid: a new object under the same key starts a new record. */
  uid: string;
  /**
   * Member versions after our own writes, by cluster: fresher than the federated object's status
   * (whose echo may lag), so a write's own watch event is not taken for drift.
   */
  versions?: Map<string, string>;
  /**
   * The status last written, and the cached status it replaced: while the cache still shows that one,
   * the write's echo has not arrived and the written status stands in for it. (Compared by content:
   * every event replaces the cached object, and the echo may arrive before the write's answer.)
   */
  status?: { before: FederatedObject['status']; status: FederatedObject['status'] };
  /** When (epoch ms) the status was last written, for the minimum interval. */
  statusAt?: number;
}

/** How often the records of federated objects are pruned (bench-scale waits this long before reading the heap). */
export const RECORD_SWEEP_MS = 30_000;

/** The place of the host's own objects in OwnWrites (cluster names, RFC 1123, never contain parentheses). */
const HOST = '(host)';

/** Window over which resync re-enqueues are spread: half the period, at most 30 s. */
export function resyncSpreadMs(resyncMs = 300_000): number {
  return Math.min(resyncMs / 2, 30_000);
}

/** Pure form of FederatedTypeController.federatedKeyOf. */
export function federatedKeyFor(target: ResourceRef, federated: ResourceRef, obj: KubernetesObject): string {
  const name = obj.metadata?.name ?? '';
  if (!target.namespaced && federated.namespaced) return `${name}/${name}`;
  return objectKey(obj);
}
