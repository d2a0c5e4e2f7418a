// Client-side request limits: a token bucket per cluster connection (one KubeConfig), as client-go's
// QPS/Burst. Off by default: API Priority and Fairness on the servers is the first line (fedctl's
// identity belongs in a lower priority level than people's, see docs/performance.md); a limit is for
// servers without APF or to leave fixed headroom. Watches are long-running and never wait.

export interface RequestLimits {
  /** Sustained requests per second; 0 or less: no limit. */
  qps: number;
  /** Requests that may go at once after a quiet period (at least 1). */
  burst: number;
}

export const NO_LIMITS: RequestLimits = { qps: 0, burst: 0 };

/** Tokens refill at `qps` per second up to `burst`; each request takes one, waiting its turn (FIFO). */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(limits: RequestLimits, now: () => number = () => performance.now()) {
    this.#qps = limits.qps;
    this.#burst = Math.max(1, limits.burst);
    this.#now = now;
    this.#tokens = this.#burst;
    this.#last = now();
  }

  /** Takes a token now and returns how long (ms) to wait before using it: 0 when one was free. */
  reserve(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** A limiter for `limits`, or undefined when they set none. */
export function limiterFor(limits: RequestLimits): TokenBucket | undefined {
  return limits.qps > 0 ? new TokenBucket(limits) : undefined;
}
