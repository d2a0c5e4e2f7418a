import { describe, expect, it } from 'vitest';
import { waitFor } from '../testbed/harness/wait.ts';
import { cpuSnapshot } from './cpu.ts';
import { LOAD_COMM, parseLoad, startLoad } from './load.ts';

describe('parseLoad', () => {
  it('is 0 when unset or empty, else a whole number', () => {
    expect(parseLoad(undefined)).toBe(0);
    expect(parseLoad('')).toBe(0);
    expect(parseLoad('2')).toBe(2);
  });

  it('names the variable when the value is not a whole number ≥ 0', () => {
    expect(() => parseLoad('-1')).toThrow(/BENCH_LOAD must be a whole number ≥ 0, got "-1"/);
    expect(() => parseLoad('1.5')).toThrow(/BENCH_LOAD/);
  });
});

describe('startLoad', () => {
  it('runs spinners named for bench/cpu.ts and stops them by pid', async () => {
    const before = new Set(spinners());
    const load = startLoad(1);
    try {
      const mine = await waitFor('a spinner', () => spinners().find((p) => !before.has(p)), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      await load.stop();
      expect(spinners()).not.toContain(mine);
    } finally {
      await load.stop();
    }
  });
});

function spinners(): number[] {
  return [...cpuSnapshot()].filter(([, p]) => p.comm === LOAD_COMM).map(([pid]) => pid);
}
