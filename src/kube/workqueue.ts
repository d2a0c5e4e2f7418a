// The rate-limited work queue every controller drains, with client-go's semantics:
// - a key is queued at most once while it waits ("dirty");
// - a key is never handed to two workers at once: adding a key that is being processed marks it
//   dirty, and done() puts it back in the queue;
// - addRateLimited delays a key by the larger of a per-key exponential backoff and a global token
//   bucket, so one broken object backs off alone while a mass failure is throttled as a whole.
import { type Clock, exponentialDelay, realClock, type TimerHandle, TokenBucket } from './backoff.ts';
import type { Counter, Gauge, Registry } from './metrics.ts';

export interface WorkQueueOptions {
  /** Names the queue in metrics and logs. */
  name?: string;
  /** First per-key retry delay; default 5 ms. */
  baseDelayMs?: number;
  /** Cap of the per-key retry delay; default 60 s. */
  maxDelayMs?: number;
  /** Global retry rate; default 10 per second. */
  qps?: number;
  /** Global retry burst; default 100. */
  burst?: number;
  clock?: Clock;
  /** Registers fedctl_queue_{depth,adds_total,retries_total}, labelled `queue` with the queue name. */
  metrics?: Registry;
}

interface QueueMetrics {
  depth: Gauge;
  adds: Counter;
  retries: Counter;
}

export class WorkQueue {
  readonly name: string;
  readonly clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #bucket: TokenBucket;
  // FIFO of waiting keys; `#head` avoids O(n) shifts on long queues.
  #queue: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #delayed = new Map<string, { at: number; timer: TimerHandle }>();
  readonly #failures = new Map<string, number>();
  readonly #drainWaiters: Array<() => void> = [];
  readonly #metrics: QueueMetrics | undefined;
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'default';
    this.clock = opts.clock ?? realClock;
    this.#baseDelayMs = opts.baseDelayMs ?? 5;
    this.#maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.#bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, this.clock);
    if (opts.metrics) {
      this.#metrics = {
        depth: opts.metrics.gauge('fedctl_queue_depth', 'Keys waiting in a work queue.', ['queue']),
        adds: opts.metrics.counter('fedctl_queue_adds_total', 'Keys added to a work queue.', ['queue']),
        retries: opts.metrics.counter(
          'fedctl_queue_retries_total',
          'Keys re-added to a work queue after a failure.',
          ['queue'],
        ),
      };
      this.#metrics.depth.set({ queue: this.name }, 0);
    }
  }

  /** Queues `key` unless it is already waiting. Ignored after shutDown(). */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#metrics?.adds.inc({ queue: this.name });
    // A key being processed waits for done(); handing it out now would run two reconciles at once.
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#dispatch();
  }

  /**
   * Queues `key` after `ms`. While a delayed add for the key is pending, a later or equal deadline is
   * ignored and an earlier one replaces it (so a retry never pushes a scheduled resync further out).
   */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      this.clock.clearTimeout(pending.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /** Queues `key` after its backoff: max(5 ms · 2^failures capped at 60 s, the global bucket's wait). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.nextDelay(key));
    this.#metrics?.retries.inc({ queue: this.name });
  }

  /**
   * The delay addRateLimited(key) applies, counting one more failure for `key` and taking a bucket
   * token. Exposed so callers (and tests) can see the schedule.
   */
  nextDelay(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const perKey = exponentialDelay(failures, this.#baseDelayMs, this.#maxDelayMs);
    return Math.max(perKey, this.#bucket.reserve());
  }

  /** Clears the per-key backoff of `key` (call after it was processed successfully). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` was re-added with addRateLimited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * The next key to process; waits while the queue is empty. Resolves undefined once the queue is
   * shut down, even if keys were still waiting (they are dropped: the next run relists anyway).
   * Every key returned must be passed to done().
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` as processed; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#dispatch();
    }
    this.#checkDrained();
  }

  /** Keys waiting to be handed out (not those being processed or delayed). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys currently handed out and not yet done(). */
  processingCount(): number {
    return this.#processing.size;
  }

  /** Keys scheduled by addAfter/addRateLimited that are not due yet. */
  delayedCount(): number {
    return this.#delayed.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops the queue: pending get()s resolve undefined, delayed adds are cancelled, adds are ignored. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) this.clock.clearTimeout(timer);
    this.#delayed.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
    this.#updateDepth();
    this.#checkDrained();
  }

  /**
   * Resolves once nothing is waiting and nothing is being processed. Delayed adds do not count (a
   * periodic requeue would otherwise never let it resolve); after shutDown only processing counts.
   */
  drain(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #idle(): boolean {
    return this.#processing.size === 0 && (this.len() === 0 || this.#shuttingDown);
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length > 0 && this.#idle()) {
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  #take(): string | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const key = this.#queue[this.#head] as string;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#updateDepth();
    return key;
  }

  #dispatch(): void {
    while (this.#waiters.length > 0) {
      const key = this.#take();
      if (key === undefined) break;
      (this.#waiters.shift() as (key: string | undefined) => void)(key);
    }
    this.#updateDepth();
  }

  #updateDepth(): void {
    this.#metrics?.depth.set({ queue: this.name }, this.#shuttingDown ? 0 : this.len());
  }
}

export interface ReconcileResult {
  /** Process the key again after this many milliseconds (a periodic check, a pending condition). */
  requeueAfterMs?: number;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a reconciler with nothing to say is a plain `async () => {}`
export type Reconcile = (key: string) => Promise<ReconcileResult | undefined | void>;

export interface WorkerHooks {
  /** A reconcile threw; the key has been re-added with backoff. */
  onError?(key: string, err: unknown): void;
  /** Every reconcile, with its duration and whether it succeeded. */
  onResult?(key: string, durationMs: number, ok: boolean): void;
}

/**
 * Stops the workers: shuts the queue down and resolves once every in-flight reconcile has finished.
 * Callable directly or as `.stop()`; `.done` resolves when all workers have exited.
 */
export interface Workers {
  (): Promise<void>;
  stop(): Promise<void>;
  readonly done: Promise<void>;
}

/**
 * Runs `concurrency` workers that take keys from `queue` and reconcile them. A successful reconcile
 * forgets the key's backoff (and re-adds it after `requeueAfterMs` if asked); a throw re-adds it
 * rate-limited. A key is never reconciled by two workers at once.
 */
export function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  reconcile: Reconcile,
  hooks: WorkerHooks = {},
): Workers {
  if (!(concurrency >= 1)) throw new Error(`runWorkers: concurrency must be >= 1, got ${concurrency}`);
  const call = (fn: () => void) => {
    // A broken hook must not kill the worker loop.
    try {
      fn();
    } catch {}
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const start = queue.clock.now();
      try {
        const result = await reconcile(key);
        queue.forget(key);
        const after = result?.requeueAfterMs;
        if (after !== undefined && after >= 0) queue.addAfter(key, after);
        call(() => hooks.onResult?.(key, queue.clock.now() - start, true));
      } catch (err) {
        queue.addRateLimited(key);
        call(() => hooks.onError?.(key, err));
        call(() => hooks.onResult?.(key, queue.clock.now() - start, false));
      } finally {
        queue.done(key);
      }
    }
  };
  const done = Promise.all(Array.from({ length: Math.floor(concurrency) }, worker)).then(() => undefined);
  const stop = async (): Promise<void> => {
    queue.shutDown();
    await done;
  };
  return Object.assign(stop, { stop, done });
}
