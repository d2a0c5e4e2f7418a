import { describe, expect, it } from 'vitest';
import { median, pairedRatios, percentile, pool, spread } from './stats.ts';

describe('percentile', () => {
  it('picks the nearest-rank sample', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });
  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('pool', () => {
  it('runs every item with at most the given number in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await pool([1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(i);
      inFlight--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });
});

describe('spread', () => {
  it('gives the median and the range of the repeats', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([5])).toEqual({ median: 5, min: 5, max: 5, n: 1 });
  });
  it('takes the lower middle sample for an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2);
  });
  it('is NaN without samples', () => {
    expect(spread([]).median).toBeNaN();
    expect(spread([]).n).toBe(0);
  });
});

describe('pairedRatios', () => {
  it('divides each repeat by the baseline of the same repeat', () => {
    expect(pairedRatios([10, 30], [5, 10])).toEqual([2, 3]);
  });
  it('refuses unpaired samples', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow(/as many baselines \(1\) as values \(2\)/);
  });
});
