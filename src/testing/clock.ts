// Test support: a clock tests move by hand.
import type { Clock, TimerHandle } from '../kube/backoff.ts';

/**
 * A clock that only moves when told to, for tests: `advance(ms)` runs every timer that falls due, in
 * deadline order (timers scheduled by those callbacks run too if they fall inside the window).
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > until) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = until;
  }
}
