import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../testing/clock.ts';
import { exponentialDelay, realClock, sleep, TokenBucket } from './backoff.ts';

describe('exponentialDelay', () => {
  it.each([
    [0, 5],
    [1, 10],
    [2, 20],
    [10, 5120],
    [13, 40960],
    [14, 60000],
    [1000, 60000],
  ])('doubles from the base and stops at the cap (attempt %i → %i ms)', (attempt, ms) => {
    expect(exponentialDelay(attempt, 5, 60_000)).toBe(ms);
  });

  it('gives the informer schedule 1 s, 2 s, 4 s … 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => exponentialDelay(a, 1000, 30_000))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });
});

describe('TokenBucket', () => {
  it('serves a burst without waiting, then spaces reservations at qps', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 3, clock);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([100, 200, 300]);
  });

  it('refills with time, never above the burst', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 2, clock);
    b.reserve();
    b.reserve();
    clock.advance(10_000);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 100]);
  });

  it('refuses a rate or burst that would never hand out tokens', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/qps/);
    expect(() => new TokenBucket(1, 0)).toThrow(/burst/);
  });
});

describe('ManualClock', () => {
  it('fires due timers in deadline order, including ones scheduled while advancing', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => {
      fired.push('a@10');
      clock.setTimeout(() => fired.push('c@15'), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(cancelled);
    clock.advance(19);
    expect(fired).toEqual(['a@10', 'c@15']);
    expect(clock.now()).toBe(19);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'c@15', 'b@20']);
    expect(clock.pending()).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the delay on the given clock', async () => {
    const clock = new ManualClock();
    let done = false;
    const p = sleep(100, clock).then(() => {
      done = true;
    });
    clock.advance(99);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves early when its signal aborts', async () => {
    const ac = new AbortController();
    const p = sleep(1_000_000, new ManualClock(), ac.signal);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });

  it('follows vitest fake timers with the default clock', async () => {
    vi.useFakeTimers();
    try {
      const p = sleep(5000, realClock);
      await vi.advanceTimersByTimeAsync(5000);
      await expect(p).resolves.toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
