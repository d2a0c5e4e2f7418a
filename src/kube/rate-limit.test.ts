import { describe, expect, it } from 'vitest';
import { limiterFor, NO_LIMITS, TokenBucket } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests at 1/qps', () => {
    const t = 0;
    const b = new TokenBucket({ qps: 10, burst: 3 }, () => t);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBeCloseTo(100);
    expect(b.reserve()).toBeCloseTo(200);
  });

  it('refills while idle, never above the burst', () => {
    let t = 0;
    const b = new TokenBucket({ qps: 10, burst: 2 }, () => t);
    b.reserve();
    b.reserve();
    t = 10_000;
    expect([b.reserve(), b.reserve()]).toEqual([0, 0]);
    expect(b.reserve()).toBeCloseTo(100);
  });

  it('treats a burst below 1 as 1', () => {
    const t = 0;
    const b = new TokenBucket({ qps: 4, burst: 0 }, () => t);
    expect(b.reserve()).toBe(0);
    expect(b.reserve()).toBeCloseTo(250);
  });

  it('waits in take() for the reserved time', async () => {
    const b = new TokenBucket({ qps: 50, burst: 1 });
    await b.take();
    const start = performance.now();
    await b.take();
    expect(performance.now() - start).toBeGreaterThanOrEqual(15);
  });
});

describe('limiterFor', () => {
  it('is undefined without a qps', () => {
    expect(limiterFor(NO_LIMITS)).toBeUndefined();
    expect(limiterFor({ qps: -1, burst: 5 })).toBeUndefined();
    expect(limiterFor({ qps: 5, burst: 5 })).toBeInstanceOf(TokenBucket);
  });
});
