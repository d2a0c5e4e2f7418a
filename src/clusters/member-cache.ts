// One view of every member, shared by all controllers (the role of Karmada's multi-cluster informer
// manager): each controller declares the resources it reads (`use(ref)`), and the cache runs one
// informer per (cluster, resource, selector) whoever asked for it, started when the member is Ready
// and stopped when it leaves or its credentials change. Watch connections per member therefore
// grow with the resources read, not with the number of controllers.
//
// Readers get a MemberResource: synced/get/list per cluster plus events. Controllers take
// MemberResources as inputs, so unit tests hand them a StaticMemberResource seeded with objects.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { type InformerEvent, SupervisedInformer } from '../kube/informer.ts';
import type { Logger } from '../kube/logger.ts';
import type { Registry } from '../kube/metrics.ts';
import type { ResourceRef } from '../kube/refs.ts';
import type { EventHandler } from '../kube/runner.ts';

/** What one cached resource looks like to a reader, in every member. */
export interface MemberResource<T extends KubernetesObject = KubernetesObject> {
  readonly ref: ResourceRef;
  /** The cache of this resource in `cluster` has listed: an absent object is then really absent. */
  synced(cluster: string): boolean;
  get(cluster: string, name: string, namespace?: string): T | undefined;
  /** Cached objects in `cluster` (read-only), optionally of one namespace only. */
  list(cluster: string, namespace?: string): T[];
  /** Events of every member; the handler's third argument is the cluster. */
  on(event: InformerEvent, handler: EventHandler<T>): () => void;
  /** Called once a member's cache of this resource has listed (it may hold nothing to emit). */
  onSynced(fn: (cluster: string) => void): () => void;
}

export interface UseOptions {
  /** Only this namespace (fewer objects; e.g. kube-system for CoreDNS' ConfigMaps). */
  namespace?: string;
  labelSelector?: string;
}

/** A member the cache can watch: its name and, once its configuration is valid, its clients. */
export interface CacheMember {
  name: string;
  clients?: ClusterClients;
}

export interface MemberCacheOptions {
  log: Logger;
  metrics?: Registry;
  /** Relist period of member informers; default the informer's (5 min). */
  resyncMs?: number;
}

interface Entry {
  clients: ClusterClients;
  informers: Map<string, SupervisedInformer<KubernetesObject>>;
}

export class MemberCache {
  readonly #o: MemberCacheOptions;
  readonly #specs = new Map<string, { ref: ResourceRef; opts: UseOptions; resource: CachedResource }>();
  readonly #members = new Map<string, Entry>();
  #stopped = false;

  constructor(o: MemberCacheOptions) {
    this.#o = o;
  }

  /**
   * The shared cache of `ref` (with these options) in every member. Asking twice returns the same
   * one; informers for it start in every member already watched and in every member added later.
   */
  use<T extends KubernetesObject = KubernetesObject>(
    ref: ResourceRef,
    opts: UseOptions = {},
  ): MemberResource<T> {
    const id = specId(ref, opts);
    let spec = this.#specs.get(id);
    if (!spec) {
      spec = {
        ref,
        opts,
        resource: new CachedResource(ref, (cluster) => this.#members.get(cluster)?.informers.get(id)),
      };
      this.#specs.set(id, spec);
      for (const [cluster, entry] of this.#members) this.#startInformer(cluster, entry, id);
    }
    return spec.resource as unknown as MemberResource<T>;
  }

  /**
   * Members changed: watch the Ready members with clients (a member stays watched while it is
   * unready, its informers retry by themselves), stop watching those that left or whose clients
   * were rebuilt (new credentials).
   */
  sync(members: readonly CacheMember[], isReady: (cluster: string) => boolean): void {
    if (this.#stopped) return;
    const byName = new Map(members.map((m) => [m.name, m]));
    for (const [name, entry] of this.#members) {
      const m = byName.get(name);
      if (!m || m.clients !== entry.clients) this.#drop(name, entry);
    }
    for (const m of members) {
      if (!m.clients || this.#members.has(m.name) || !isReady(m.name)) continue;
      const entry: Entry = { clients: m.clients, informers: new Map() };
      this.#members.set(m.name, entry);
      for (const id of this.#specs.keys()) this.#startInformer(m.name, entry, id);
    }
  }

  /** Watch connections the cache holds open to `cluster` right now. */
  watchCount(cluster: string): number {
    return [...(this.#members.get(cluster)?.informers.values() ?? [])].filter((i) => i.healthy()).length;
  }

  /** Clusters being watched. */
  clusters(): string[] {
    return [...this.#members.keys()].sort();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#members].map(([name, entry]) => this.#drop(name, entry)));
  }

  #drop(name: string, entry: Entry): Promise<unknown> {
    this.#members.delete(name);
    const stopped = Promise.all([...entry.informers.values()].map((i) => i.stop()));
    // Readers' caches of this cluster are gone: let them recompute (a cluster that left).
    for (const [id, informer] of entry.informers)
      for (const obj of informer.list()) this.#specs.get(id)?.resource.emit('delete', obj, undefined, name);
    return stopped;
  }

  #startInformer(cluster: string, entry: Entry, id: string): void {
    const spec = this.#specs.get(id);
    if (!spec || entry.informers.has(id)) return;
    const informer = new SupervisedInformer<KubernetesObject>({
      name: `${cluster}/${spec.ref.plural}`,
      kc: entry.clients.kc,
      ref: spec.ref,
      namespace: spec.opts.namespace,
      labelSelector: spec.opts.labelSelector,
      resyncMs: this.#o.resyncMs,
      // A member may be down for long: keep retrying until stopped instead of giving up.
      startTimeoutMs: 0,
      logger: this.#o.log.with({ cluster }),
      metrics: this.#o.metrics,
    });
    entry.informers.set(id, informer);
    for (const event of ['add', 'update', 'delete'] as const)
      informer.on(event, (obj, old) => spec.resource.emit(event, obj, old, cluster));
    informer.start().then(
      // Readers waiting for the sync (they saw synced() false) get one event to look again.
      () => spec.resource.emitSynced(cluster),
      (e: unknown) => this.#o.log.warn('member cache did not sync', { cluster, error: errorMessage(e) }),
    );
  }
}

const specId = (ref: ResourceRef, opts: UseOptions): string =>
  `${ref.plural}.${ref.group}/${ref.version}?ns=${opts.namespace ?? ''}&l=${opts.labelSelector ?? ''}`;

/** Fans events out to readers; shared by the real cache and the static one tests use. */
class Handlers<T> {
  readonly #handlers: Record<InformerEvent, Array<EventHandler<T>>> = { add: [], update: [], delete: [] };
  readonly #synced: Array<(cluster: string) => void> = [];
  on(event: InformerEvent, handler: EventHandler<T>): () => void {
    const list = this.#handlers[event];
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }
  onSynced(fn: (cluster: string) => void): () => void {
    this.#synced.push(fn);
    return () => this.#synced.splice(this.#synced.indexOf(fn), 1);
  }
  emit(event: InformerEvent, obj: T, old: T | undefined, cluster: string): void {
    for (const h of this.#handlers[event]) h(obj, old, cluster);
  }
  emitSynced(cluster: string): void {
    for (const fn of this.#synced) fn(cluster);
  }
}

class CachedResource extends Handlers<KubernetesObject> implements MemberResource {
  readonly ref: ResourceRef;
  readonly #informer: (cluster: string) => SupervisedInformer<KubernetesObject> | undefined;
  constructor(
    ref: ResourceRef,
    informer: (cluster: string) => SupervisedInformer<KubernetesObject> | undefined,
  ) {
    super();
    this.ref = ref;
    this.#informer = informer;
  }
  synced(cluster: string): boolean {
    return this.#informer(cluster)?.hasSynced() === true;
  }
  get(cluster: string, name: string, namespace?: string): KubernetesObject | undefined {
    return this.#informer(cluster)?.get(name, namespace);
  }
  list(cluster: string, namespace?: string): KubernetesObject[] {
    const all = this.#informer(cluster)?.list() ?? [];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }
}

/**
 * A MemberResource holding given objects: for one-shot readers (`fedctl dns show` lists each member
 * once) and for unit tests (seed, reconcile, assert). A cluster with no entry is not synced.
 */
export class StaticMemberResource<T extends KubernetesObject = KubernetesObject>
  extends Handlers<T>
  implements MemberResource<T>
{
  readonly ref: ResourceRef;
  readonly #objects = new Map<string, T[]>();
  constructor(ref: ResourceRef, objects: Record<string, readonly T[]> = {}) {
    super();
    this.ref = ref;
    for (const [cluster, list] of Object.entries(objects)) this.set(cluster, list);
  }
  /** Replaces what `cluster` holds (and marks it synced). */
  set(cluster: string, objects: readonly T[]): this {
    this.#objects.set(cluster, [...objects]);
    return this;
  }
  synced(cluster: string): boolean {
    return this.#objects.has(cluster);
  }
  get(cluster: string, name: string, namespace?: string): T | undefined {
    return this.#objects
      .get(cluster)
      ?.find(
        (o) => o.metadata?.name === name && (!this.ref.namespaced || o.metadata?.namespace === namespace),
      );
  }
  list(cluster: string, namespace?: string): T[] {
    const all = this.#objects.get(cluster) ?? [];
    return namespace === undefined ? [...all] : all.filter((o) => o.metadata?.namespace === namespace);
  }
}
