// A supervised informer: a local cache of one resource in one cluster, kept current by list+watch,
// that never gives up until stop().
//
// Why our own list+watch loop instead of client-node's makeInformer/ListWatch (2.0.1, read in
// dist/cache.js and dist/watch.js):
// - ListWatch stops for good after any error but 410 (its doneHandler fires `error` and returns);
//   a failed list does the same. Supervising it from outside means racing its internal state.
// - stop() during the initial list is lost: the list finishes and a watch starts anyway.
// - No resync, no "is the watch up" state, no timeout on the first list.
// - Its Watch drops the body of a failed watch request (a 403 says "Forbidden", not who or why).
// Owning the loop keeps every transition in one place (and testable with a fake ListWatchSource):
//   list → watch from the list's resourceVersion → on a clean end (server timeout, idle timeout)
//   resume the watch from the last seen resourceVersion; on 410 Gone relist at once; on any other
//   failure wait (1 s doubling to 30 s, reset once a watch has stayed up) and relist, diffing the new
//   list against the cache so missed adds, updates and deletes are all delivered.
// Every `resyncMs` every cached object is emitted again as an `update` with itself as the old object
// (client-go's resync: handlers re-enqueue everything, a level-triggered safety net that costs no
// request). Every `relistMs` (default 30 min) the watch is closed and the resource relisted, and only
// the differences are emitted: a guard against a watch that missed an event, rare because relisting
// every member's objects is what a resync must not cost at scale.
//
// Objects handed out are plain JSON (apiVersion and kind set, timestamps as strings) and deeply
// frozen: they are the cache. Never mutate them; `clone()` gives a private, mutable copy.
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Clock, exponentialDelay, realClock, type TimerHandle } from './backoff.ts';
import { errorMessage } from './errors.ts';
import type { KubeConfig } from './kubeconfig.ts';
import { kubeListWatchSource } from './list-watch.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Registry } from './metrics.ts';
import { objectKey, type ResourceRef } from './refs.ts';
import { apiVersionOf, describeRef } from './resources.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
/** `old` is the cached object before an update; undefined for add and delete. */
export type InformerHandler<T> = (obj: T, old?: T) => void;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  /** The object, or for ERROR a Status ({code, reason, message}). */
  object: T;
}

export interface WatchHandle {
  /** Ends the watch; onClose is not called afterwards. */
  stop(): void;
}

/**
 * Where an informer gets its data. The real one talks to an API server; tests pass a fake.
 * - `list()` returns the objects and the list's resourceVersion.
 * - `watch()` resolves once the server accepted the watch (HTTP 200) and rejects if it could not be
 *   opened (connection refused, 403, 410 …). After it resolved, `onEvent` gets every event and
 *   `onClose` is called exactly once when the stream ends: no argument for a clean end, else the error.
 */
export interface ListWatchSource<T> {
  list(signal?: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    onClose: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  /** Names the informer in logs and errors; use the cluster name (e.g. `cluster1` or `cluster1/deployments`). */
  name: string;
  kc: KubeConfig;
  ref: ResourceRef;
  /** Only this namespace (namespaced resources); default all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit `update` for every cached object this often (no request); default 5 min, 0 disables. */
  resyncMs?: number;
  /** Close the watch and relist this often (differences are emitted); default 30 min, 0 disables. */
  relistMs?: number;
  logger?: Logger;
  /** start() rejects when the first list has not succeeded by then; default 60 s, 0 waits forever. */
  startTimeoutMs?: number;
  /** First retry delay after a failure; default 1 s. */
  backoffBaseMs?: number;
  /** Retry delay cap; default 30 s. */
  backoffMaxMs?: number;
  /** A watch that stayed up this long resets the backoff; default 10 s. */
  backoffResetMs?: number;
  /** Close a watch that received nothing (not even a bookmark) for this long; default 90 s. */
  watchIdleTimeoutMs?: number;
  /** Registers fedctl_informer_{watch_up,objects,restarts_total,relists_total}. */
  metrics?: Registry;
  /** Replaces the API server (tests). */
  source?: ListWatchSource<T>;
  clock?: Clock;
}

/** A private, mutable deep copy of an object from a cache. */
export function clone<T>(obj: T): T {
  return structuredClone(obj);
}

/**
 * Makes a value plain and immutable in one pass: Dates become ISO strings, everything is frozen.
 * Works in place on the (freshly parsed) value it is given.
 */
export function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      value[i] = v instanceof Date ? v.toISOString() : freezeDeep(v);
    }
  } else {
    const rec = value as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      rec[k] = v instanceof Date ? v.toISOString() : freezeDeep(v);
    }
  }
  return Object.freeze(value);
}

const rvOf = (obj: KubernetesObject | undefined): string | undefined => obj?.metadata?.resourceVersion;

/** True for an HTTP 410 / Status code 410 (resourceVersion too old: relist). */
function isGone(e: unknown): boolean {
  const x = e as { code?: unknown; statusCode?: unknown } | undefined;
  return x?.code === 410 || x?.statusCode === 410;
}

const isTimeout = (e: unknown): boolean => (e as { name?: unknown } | undefined)?.name === 'TimeoutError';

interface Run {
  started: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  /** The first list of this run is in the cache. */
  listed: boolean;
  timers: TimerHandle[];
  /** Aborted by stop(): cancels an in-flight list. */
  abort: AbortController;
  /** Ends a backoff sleep early (stop). */
  wake?: () => void;
  /** Ends the current watch (stop, relist). */
  interrupt?: () => void;
}

type CloseReason =
  | { kind: 'closed'; err?: unknown }
  | { kind: 'gone'; immediate?: boolean }
  | { kind: 'error'; err: unknown }
  | { kind: 'interrupted' };

export class SupervisedInformer<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  readonly ref: ResourceRef;
  readonly namespace: string | undefined;
  readonly #source: ListWatchSource<T>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #resyncMs: number;
  readonly #relistMs: number;
  readonly #startTimeoutMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #backoffResetMs: number;
  readonly #server: string;
  readonly #handlers: Record<InformerEvent, Array<InformerHandler<T>>> = { add: [], update: [], delete: [] };
  readonly #metrics: ((event: 'restart' | 'relist' | 'state') => void) | undefined;

  #cache = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  #watchUp = false;
  #stopped = true;
  /** One run = one start() until stop(); a stale loop notices its run is no longer current. */
  #run: Run | undefined;
  #running: Promise<void> | undefined;
  #relistPending = false;
  #failures = 0;
  #lastError: string | undefined;

  constructor(opts: SupervisedInformerOptions<T>) {
    this.name = opts.name;
    this.ref = opts.ref;
    this.namespace = opts.ref.namespaced ? opts.namespace : undefined;
    this.#clock = opts.clock ?? realClock;
    this.#resyncMs = opts.resyncMs ?? 5 * 60_000;
    this.#relistMs = opts.relistMs ?? 30 * 60_000;
    this.#startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.#backoffBaseMs = opts.backoffBaseMs ?? 1000;
    this.#backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.#backoffResetMs = opts.backoffResetMs ?? 10_000;
    this.#server = opts.kc.getCurrentCluster()?.server ?? '';
    this.#log = (opts.logger ?? createLogger()).with({
      informer: opts.name,
      resource: describeRef(opts.ref),
    });
    this.#source =
      opts.source ??
      kubeListWatchSource<T>(opts.kc, opts.ref, {
        namespace: this.namespace,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        watchIdleTimeoutMs: opts.watchIdleTimeoutMs,
      });
    this.#metrics = opts.metrics ? this.#registerMetrics(opts.metrics) : undefined;
  }

  /** Registers a handler; returns a function that removes it. Handlers run synchronously, after the cache changed. */
  on(event: InformerEvent, handler: InformerHandler<T>): () => void {
    const list = this.#handlers[event];
    if (!list) throw new Error(`informer ${this.name}: unknown event "${event}"`);
    list.push(handler);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * Starts list+watch. Resolves once the first list is in the cache (handlers have seen an `add` for
   * every object); rejects, and stops the informer, if that has not happened within startTimeoutMs.
   * While running, calling it again returns the same promise; after stop() it starts afresh.
   */
  start(): Promise<void> {
    if (this.#run && !this.#stopped) return this.#run.started;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that fire and forget must not crash the process with an unhandled rejection.
    started.catch(() => {});
    const run: Run = { started, resolve, reject, listed: false, timers: [], abort: new AbortController() };
    this.#run = run;
    this.#stopped = false;
    this.#relistPending = false;
    this.#failures = 0;
    if (this.#startTimeoutMs > 0) {
      run.timers.push(
        this.#clock.setTimeout(() => {
          if (run.listed || this.#run !== run) return;
          const secs = Math.round(this.#startTimeoutMs / 100) / 10;
          run.reject(
            new Error(
              `informer "${this.name}": ${this.#describe()} did not sync within ${secs}s` +
                (this.#lastError ? `: ${this.#lastError}` : ''),
            ),
          );
          void this.stop();
        }, this.#startTimeoutMs),
      );
    }
    this.#armResync(run);
    this.#armRelist(run);
    // A previous run's loop may still be unwinding from an await; it checks #run after every await
    // and leaves without touching the cache.
    this.#running = this.#loop(run).catch((e: unknown) => {
      // The loop handles its own errors; reaching here is a bug, and it must at least be visible.
      this.#log.error('informer loop crashed', { error: e });
    });
    return started;
  }

  /** Stops watching. The cache keeps its last content; resolves when the loop has exited. */
  stop(): Promise<void> {
    const run = this.#run;
    if (!this.#stopped && run) {
      this.#stopped = true;
      for (const t of run.timers) this.#clock.clearTimeout(t);
      run.wake?.();
      run.interrupt?.();
      run.abort.abort();
      if (!run.listed)
        run.reject(new Error(`informer "${this.name}": stopped before ${this.#describe()} synced`));
    }
    this.#stopped = true;
    return this.#running ?? Promise.resolve();
  }

  /** Every cached object (read-only). */
  list(): T[] {
    return [...this.#cache.values()];
  }

  /** One cached object (read-only), by name and, for namespaced resources, namespace. */
  get(name: string, namespace?: string): T | undefined {
    return this.#cache.get(this.ref.namespaced && namespace ? `${namespace}/${name}` : name);
  }

  /** The first list has completed (stays true after stop(): the cache keeps its content). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** A watch is open right now (false while backing off after an error, or after stop()). */
  healthy(): boolean {
    return this.#watchUp && !this.#stopped;
  }

  /** The resourceVersion the cache is at. */
  resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** The last list/watch failure, if the informer has not recovered from it yet. */
  lastError(): string | undefined {
    return this.#lastError;
  }

  #describe(): string {
    const scope = this.ref.namespaced
      ? this.namespace
        ? ` in namespace "${this.namespace}"`
        : ' in all namespaces'
      : '';
    return `${describeRef(this.ref)}${scope}${this.#server ? ` on ${this.#server}` : ''}`;
  }

  #alive(run: Run): boolean {
    return !this.#stopped && this.#run === run;
  }

  #armResync(run: Run): void {
    this.#every(run, this.#resyncMs, () => {
      // Before the first list there is nothing to replay; the list itself emits every object.
      if (!run.listed) return;
      for (const obj of this.#cache.values()) this.#emit('update', obj, obj);
    });
  }

  #armRelist(run: Run): void {
    this.#every(run, this.#relistMs, () => {
      this.#relistPending = true;
      // Only an open watch is interrupted; a backoff in progress is honoured, and the first list
      // after it is the relist.
      run.interrupt?.();
    });
  }

  /** Calls `fn` every `ms` while `run` is current (never when `ms` ≤ 0). */
  #every(run: Run, ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const timer = this.#clock.setTimeout(() => {
      run.timers = run.timers.filter((t) => t !== timer);
      if (!this.#alive(run)) return;
      this.#every(run, ms, fn);
      fn();
    }, ms);
    run.timers.push(timer);
  }

  /** Waits for `ms` unless woken (stop). */
  #sleep(run: Run, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, ms);
      run.wake = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      run.wake = undefined;
    });
  }

  async #backoff(run: Run, err: unknown, what: string): Promise<void> {
    const delay = exponentialDelay(this.#failures, this.#backoffBaseMs, this.#backoffMaxMs);
    this.#failures++;
    this.#lastError = errorMessage(err);
    this.#metrics?.('restart');
    this.#log.warn(`${what} failed, retrying`, {
      error: this.#lastError,
      delayMs: delay,
      attempt: this.#failures,
    });
    await this.#sleep(run, delay);
  }

  async #loop(run: Run): Promise<void> {
    let needList = true;
    while (this.#alive(run)) {
      const listing = needList || this.#relistPending;
      if (listing) {
        this.#relistPending = false;
        let list: { items: T[]; resourceVersion: string };
        try {
          list = await this.#source.list(run.abort.signal);
        } catch (e) {
          if (!this.#alive(run)) break;
          await this.#backoff(run, e, 'list');
          continue;
        }
        if (!this.#alive(run)) break;
        this.#replace(run, list.items, list.resourceVersion);
        this.#metrics?.('relist');
        needList = false;
      }
      const outcome = await this.#watchOnce(run);
      if (!this.#alive(run)) break;
      switch (outcome.kind) {
        case 'interrupted': // a relist is due: at the top of the loop
        case 'closed': // resume from the last resourceVersion
          break;
        case 'gone':
          needList = true;
          if (listing && outcome.immediate) {
            // Expired straight after a fresh list: relisting at once would spin.
            await this.#backoff(run, new Error('resourceVersion expired right after a list'), 'watch');
          } else {
            this.#log.debug('resourceVersion expired, relisting', { resourceVersion: this.#resourceVersion });
          }
          break;
        case 'error':
          needList = true;
          await this.#backoff(run, outcome.err, 'watch');
          break;
      }
    }
    if (this.#run === run) {
      this.#watchUp = false;
      this.#metrics?.('state');
    }
  }

  /** Runs one watch until it ends, and says how it ended. */
  async #watchOnce(run: Run): Promise<CloseReason> {
    let settled = false;
    let settle!: (r: CloseReason) => void;
    const ended = new Promise<CloseReason>((resolve) => {
      settle = (r) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
    });
    run.interrupt = () => settle({ kind: 'interrupted' });
    const openedAt = this.#clock.now();
    let events = 0;
    let objectEvents = 0;
    let handle: WatchHandle | undefined;
    try {
      handle = await this.#source.watch(
        this.#resourceVersion,
        (ev) => {
          if (settled || !this.#alive(run)) return;
          events++;
          if (ev.type === 'ERROR') {
            const status = ev.object as { code?: number; reason?: string; message?: string };
            // The server ends the stream after an ERROR; stop reading now.
            settle(isGone(status) ? { kind: 'gone' } : { kind: 'error', err: watchStatusError(status) });
            return;
          }
          if (ev.type !== 'BOOKMARK') objectEvents++;
          this.#apply(ev);
        },
        (err) => {
          if (err === undefined || err === null) settle({ kind: 'closed' });
          else if (isGone(err)) settle({ kind: 'gone' });
          else if (isTimeout(err)) settle({ kind: 'closed', err });
          else settle({ kind: 'error', err });
        },
      );
    } catch (e) {
      settle(isGone(e) ? { kind: 'gone' } : { kind: 'error', err: e });
    }
    if (handle && !settled && this.#alive(run)) {
      this.#watchUp = true;
      this.#lastError = undefined;
      this.#metrics?.('state');
      this.#log.debug('watch open', { resourceVersion: this.#resourceVersion });
    }
    const result = await ended;
    run.interrupt = undefined;
    handle?.stop();
    if (this.#watchUp && this.#run === run) {
      this.#watchUp = false;
      this.#metrics?.('state');
    }
    const lived = this.#clock.now() - openedAt;
    if (handle && lived >= this.#backoffResetMs) this.#failures = 0;
    if (result.kind === 'gone') return { kind: 'gone', immediate: objectEvents === 0 && lived < 1000 };
    if (result.kind === 'closed' && events === 0 && lived < 1000 && !isTimeout(result.err)) {
      // A server (or proxy) that accepts watches and closes them at once would otherwise be hit in
      // a tight loop.
      return { kind: 'error', err: new Error('watch closed right after it opened') };
    }
    return result;
  }

  #normalise(obj: T): T {
    if (!obj.apiVersion) obj.apiVersion = apiVersionOf(this.ref);
    if (!obj.kind) obj.kind = this.ref.kind;
    // No decision reads managedFields, and they are often the largest part of an object: caches
    // hold thousands of objects. (A PUT without managedFields leaves the server's record as it is.)
    // The metadata is rebuilt without them, not `delete`d from: a delete turns V8's object into a
    // hash table, 448 more bytes for every cached object (measured on a heap snapshot).
    if (obj.metadata?.managedFields !== undefined) {
      const { managedFields, ...rest } = obj.metadata;
      obj.metadata = rest;
    }
    return freezeDeep(obj);
  }

  #apply(ev: WatchEvent<T>): void {
    const obj = ev.object;
    const rv = rvOf(obj);
    if (ev.type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    if (!obj?.metadata?.name) return;
    if (rv) this.#resourceVersion = rv;
    const key = objectKey(obj);
    const old = this.#cache.get(key);
    if (ev.type === 'DELETED') {
      if (!old) return;
      this.#cache.delete(key);
      this.#metrics?.('state');
      this.#emit('delete', this.#normalise(obj));
      return;
    }
    // Same resourceVersion as cached: nothing changed (a replayed event after a watch resume).
    if (old && rv !== undefined && rvOf(old) === rv) return;
    const fresh = this.#normalise(obj);
    this.#cache.set(key, fresh);
    if (old) this.#emit('update', fresh, old);
    else {
      this.#metrics?.('state');
      this.#emit('add', fresh);
    }
  }

  /** Replaces the cache with a fresh list and emits the differences. */
  #replace(run: Run, items: T[], resourceVersion: string): void {
    const previous = this.#cache;
    const next = new Map<string, T>();
    for (const item of items) {
      if (!item?.metadata?.name) continue;
      next.set(objectKey(item), this.#normalise(item));
    }
    this.#cache = next;
    this.#resourceVersion = resourceVersion;
    this.#metrics?.('state');
    const firstList = !run.listed;
    run.listed = true;
    this.#synced = true;
    for (const [key, obj] of next) {
      const old = previous.get(key);
      if (!old) this.#emit('add', obj);
      else if (rvOf(old) !== rvOf(obj) || rvOf(obj) === undefined) this.#emit('update', obj, old);
    }
    for (const [key, old] of previous) if (!next.has(key)) this.#emit('delete', old);
    if (firstList) {
      this.#lastError = undefined;
      this.#log.debug('synced', { objects: next.size, resourceVersion });
      run.resolve();
    } else {
      this.#log.debug('relisted', { objects: next.size, resourceVersion });
    }
  }

  #emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of [...this.#handlers[event]]) {
      try {
        h(obj, old);
      } catch (e) {
        this.#log.error(`${event} handler threw`, { key: objectKey(obj), error: e });
      }
    }
  }

  #registerMetrics(registry: Registry): (event: 'restart' | 'relist' | 'state') => void {
    const labels = { informer: this.name, resource: describeRef(this.ref) };
    const up = registry.gauge('fedctl_informer_watch_up', 'Whether the informer has a watch open.', [
      'informer',
      'resource',
    ]);
    const objects = registry.gauge('fedctl_informer_objects', 'Objects in the informer cache.', [
      'informer',
      'resource',
    ]);
    const restarts = registry.counter('fedctl_informer_restarts_total', 'List or watch failures retried.', [
      'informer',
      'resource',
    ]);
    const relists = registry.counter('fedctl_informer_relists_total', 'Full lists, including resyncs.', [
      'informer',
      'resource',
    ]);
    return (event) => {
      if (event === 'restart') restarts.inc(labels);
      else if (event === 'relist') relists.inc(labels);
      up.set(labels, this.healthy() ? 1 : 0);
      objects.set(labels, this.#cache.size);
    };
  }
}

function watchStatusError(status: { code?: number; reason?: string; message?: string }): Error {
  const err = new Error(
    `watch error: ${status.message ?? 'unknown'}${status.code ? ` (HTTP ${status.code}${status.reason ? `, ${status.reason}` : ''})` : ''}`,
  );
  // Shaped like an ApiException so errors.ts reads code, reason and message from it.
  Object.assign(err, { code: status.code, body: JSON.stringify(status) });
  return err;
}
