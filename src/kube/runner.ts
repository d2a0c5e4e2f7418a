// The controller runtime every controller runs on (the part controller-runtime's Controller plays):
// informer events become keys, a rate-limited queue de-duplicates them, workers call the
// reconciler, and the outcome is counted, timed and logged the same way for every controller.
//
// A reconciler only decides and writes. It returns `{ requeueAfterMs? }` when done (a periodic
// re-check, a condition that waits for time), throws when it should be retried with backoff (API
// errors, an unsynced cache), and throws TerminalError when retrying cannot help until the input
// changes (the condition it wrote says why; an event for the object enqueues it again).
import type { KubernetesObject } from '@kubernetes/client-node';
import { sameJson } from '../api/json.ts';
import type { Clock } from './backoff.ts';
import { errorMessage } from './errors.ts';
import type { InformerEvent } from './informer.ts';
import type { Logger } from './logger.ts';
import type { Registry } from './metrics.ts';
import { type Reconcile, runWorkers, type Workers, WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/** A failure that retrying with the same input cannot fix: counted and logged, not requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** An informer event; `cluster` is set by sources that span members (the shared member cache). */
export type EventHandler<T> = (obj: T, old: T | undefined, cluster?: string) => void;

/** What the runner subscribes to: a SupervisedInformer, a MemberResource, anything with these events. */
export interface EventSource<T> {
  on(event: InformerEvent, handler: EventHandler<T>): () => void;
}

/** The keys an event enqueues (an owned object names its owner's key); none: ignore the event. */
export type KeysOf<T> = (
  obj: T,
  event: { old: T | undefined; type: InformerEvent; cluster?: string },
) => string | readonly string[] | undefined;

export interface WatchOptions {
  /**
   * An update whose resourceVersion did not change is an informer resync, not a change. `spread`
   * (default) enqueues it at a random point within resyncSpreadMs so a thousand of them do not make
   * a real change wait; `drop` ignores it (for reconcilers that requeue themselves periodically).
   */
  resync?: 'spread' | 'drop';
}

export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal';

export interface RunnerOptions {
  /** The `controller` label of the metrics, the queue name, the `controller` field of logs. */
  name: string;
  reconcile: Reconcile;
  log: Logger;
  metrics?: Registry;
  /** Concurrent reconciles (never two for one key); default 2. */
  workers?: number;
  /** Every key to reconcile at start and when clusters change (the level-triggered sweep). */
  keys?: () => Iterable<string>;
  /** Window resync events are spread over; default 30 s. */
  resyncSpreadMs?: number;
  queue?: Omit<WorkQueueOptions, 'name' | 'metrics' | 'clock'>;
  clock?: Clock;
  random?: () => number;
}

export class Runner {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #o: RunnerOptions;
  readonly #log: Logger;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #observe: (key: string, outcome: ReconcileOutcome, seconds: number) => void;
  #workers: Workers | undefined;

  constructor(o: RunnerOptions) {
    this.name = o.name;
    this.#o = o;
    this.#log = o.log.with({ controller: o.name });
    this.queue = new WorkQueue({ ...o.queue, name: o.name, metrics: o.metrics, clock: o.clock });
    const total = o.metrics?.counter('fedctl_reconcile_total', 'Reconciles by controller and result', [
      'controller',
      'result',
    ]);
    const duration = o.metrics?.histogram(
      'fedctl_reconcile_duration_seconds',
      'Reconcile duration by controller',
      ['controller'],
    );
    this.#observe = (_key, result, seconds) => {
      total?.inc({ controller: o.name, result });
      duration?.observe({ controller: o.name }, seconds);
    };
  }

  get log(): Logger {
    return this.#log;
  }

  /** Enqueue the keys `keysOf` names for every event of `source`. Call before start(). */
  watch<T extends KubernetesObject>(
    source: EventSource<T>,
    keysOf: KeysOf<T>,
    opts: WatchOptions = {},
  ): this {
    for (const event of ['add', 'update', 'delete'] as const) {
      this.#unsubscribe.push(
        source.on(event, (obj, old, cluster) => {
          const keys = keysOf(obj, { old, type: event, cluster });
          if (keys === undefined) return;
          const rv = obj.metadata?.resourceVersion;
          const resync = event === 'update' && rv !== undefined && rv === old?.metadata?.resourceVersion;
          for (const key of typeof keys === 'string' ? [keys] : keys) {
            if (!resync) this.queue.add(key);
            else if (opts.resync !== 'drop')
              this.queue.addAfter(
                key,
                (this.#o.random ?? Math.random)() * (this.#o.resyncSpreadMs ?? 30_000),
              );
          }
        }),
      );
    }
    return this;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Every key from `keys` (start, a cluster joined/left/changed health, a shared input changed). */
  enqueueAll(): void {
    for (const key of this.#o.keys?.() ?? []) this.queue.add(key);
  }

  /** Members joined, left or changed readiness. */
  clustersChanged(): void {
    this.enqueueAll();
  }

  /** Starts the workers and enqueues every key. */
  start(): void {
    if (this.#workers) return;
    const clock = this.queue.clock;
    this.#workers = runWorkers(
      this.queue,
      this.#o.workers ?? 2,
      async (key) => {
        const started = clock.now();
        const seconds = () => (clock.now() - started) / 1000;
        try {
          const result = await this.#o.reconcile(key);
          this.#observe(key, result?.requeueAfterMs !== undefined ? 'requeue_after' : 'success', seconds());
          return result;
        } catch (e) {
          if (!(e instanceof TerminalError)) {
            this.#observe(key, 'error', seconds());
            throw e;
          }
          this.#observe(key, 'terminal', seconds());
          this.#log.warn('reconcile failed; not retried until the object changes', {
            key,
            error: errorMessage(e),
          });
          return undefined;
        }
      },
      {
        onError: (key, err) =>
          this.#log.warn('reconcile failed, retrying', {
            key,
            error: errorMessage(err),
            attempt: this.queue.numRequeues(key),
          }),
      },
    );
    this.enqueueAll();
  }

  /** Stops the workers (in-flight reconciles finish) and the event subscriptions. */
  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.queue.shutDown();
    await this.#workers?.stop();
  }

  /** Resolves once nothing is queued or running (tests, orderly shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}

/**
 * Write a status only when it differs from the stored one (as JSON, whatever the key order): the one
 * status-if-changed rule. `current` is the object as read from the cache. Returns whether it wrote.
 */
export async function writeStatusIfChanged<S>(
  current: { status?: unknown } | undefined,
  next: S,
  write: (status: S) => Promise<unknown>,
): Promise<boolean> {
  if (sameJson(current?.status ?? {}, next)) return false;
  await write(next);
  return true;
}
