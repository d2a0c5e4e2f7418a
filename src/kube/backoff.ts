// Time, delays and rate limits shared by the work queue and the informers. Everything that waits takes
// a Clock so tests can drive time by hand (or with vitest fake timers: the default clock looks the
// global timer functions up at call time, so `vi.useFakeTimers()` replaces them too).

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The delay before retry number `attempt` (0 = first retry): `baseMs * 2^attempt`, capped at `maxMs`.
 * Large attempts stay at the cap instead of overflowing to Infinity or NaN.
 */
export function exponentialDelay(attempt: number, baseMs: number, maxMs: number): number {
  if (attempt < 0) return baseMs;
  const delay = baseMs * 2 ** Math.min(attempt, 62);
  return Number.isFinite(delay) ? Math.min(delay, maxMs) : maxMs;
}

/**
 * A token bucket that hands out reservations, like golang.org/x/time/rate's Reserve(): every call
 * takes one token, and the answer is how long the caller must wait for it. Tokens may go negative,
 * so a burst of callers is spread out at `qps` instead of all retrying at the same instant.
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  #clock: Clock;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    if (!(qps > 0)) throw new Error(`token bucket qps must be > 0, got ${qps}`);
    if (!(burst >= 1)) throw new Error(`token bucket burst must be >= 1, got ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.#tokens = burst;
    this.#clock = clock;
    this.#last = clock.now();
  }

  /** Takes one token; returns the milliseconds to wait before using it (0 when one was available). */
  reserve(): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.qps) / 1000);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.qps);
  }
}

/** Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, clock: Clock = realClock, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
