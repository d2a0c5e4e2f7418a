import { describe, expect, it } from 'vitest';
import { PortAllocator, pickPorts, probeFreePort } from './ports.ts';

const sequence = (ports: number[]) => {
  let i = 0;
  return async () => ports[i++ % ports.length]!;
};

describe('port choice', () => {
  it('returns distinct ports, skipping repeats the kernel hands out again', async () => {
    expect(await pickPorts(3, sequence([4000, 4000, 4001, 4000, 4002]))).toEqual([4000, 4001, 4002]);
  });

  it('skips ports already handed to other components', async () => {
    expect(await pickPorts(2, sequence([5000, 5001, 5002]), new Set([5000]))).toEqual([5001, 5002]);
  });

  it('gives up instead of looping when the probe keeps returning the same port', async () => {
    await expect(pickPorts(2, sequence([6000]))).rejects.toThrow(/could not find 2 distinct free ports/);
  });

  it('rejects nonsense from the probe', async () => {
    await expect(pickPorts(1, sequence([0]))).rejects.toThrow(/invalid port/);
  });

  it('never hands out the same port twice and replaces a busy one', async () => {
    const a = new PortAllocator(sequence([7000, 7000, 7001, 7001, 7002, 7003]));
    expect(await a.take()).toBe(7000);
    expect(await a.take()).toBe(7001);
    expect(await a.replace(7001)).toBe(7002);
  });

  it('gets real free ports from the kernel on 127.0.0.1', async () => {
    const p = await probeFreePort();
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(65536);
  });
});
