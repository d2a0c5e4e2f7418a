import { describe, expect, it } from 'vitest';
import { type CpuSnapshot, cpuBetween, cpuSnapshot, parseStat, roleOf } from './cpu.ts';

// A /proc/<pid>/stat line with utime 250 and stime 50 ticks (fields 14 and 15).
const stat = (comm: string, utime: number, stime: number) =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 8 0 100 1000 100`;

describe('parseStat', () => {
  it('reads comm and user + system time in seconds', () => {
    expect(parseStat(stat('kube-apiserver', 250, 50))).toEqual({ comm: 'kube-apiserver', seconds: 3 });
  });

  it('keeps a comm with spaces and parentheses whole (it ends at the last parenthesis)', () => {
    expect(parseStat(stat('a (b) c', 100, 0))).toEqual({ comm: 'a (b) c', seconds: 1 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(parseStat('garbage')).toBeUndefined();
    expect(parseStat('1 (x) S')).toBeUndefined();
  });
});

describe('roleOf', () => {
  it.each([
    [10, 'node', 'controller'],
    [11, 'node', 'bench'],
    [12, 'kube-apiserver', 'kube-apiserver'],
    [13, 'etcd', 'etcd'],
    [14, 'kube-controller', 'testbed'],
    [15, 'kube-scheduler', 'testbed'],
    [16, 'kwok', 'testbed'],
    [17, 'coredns', 'testbed'],
    [18, 'node', 'other'],
    [19, 'kworker/0:1', 'other'],
    [20, 'bench-load', 'load'],
  ])('pid %i (%s) is %s', (pid, comm, role) => {
    expect(roleOf(pid, comm, 11, 10)).toBe(role);
  });
});

describe('cpuBetween', () => {
  const snap = (entries: Array<[number, string, number]>): CpuSnapshot =>
    new Map(entries.map(([pid, comm, seconds]) => [pid, { comm, seconds }]));

  it('sums what each role used between the snapshots', () => {
    const before = snap([
      [10, 'node', 5],
      [12, 'kube-apiserver', 100],
      [13, 'etcd', 20],
      [20, 'kube-apiserver', 50],
    ]);
    const after = snap([
      [10, 'node', 7.5],
      [12, 'kube-apiserver', 104],
      [13, 'etcd', 21],
      [20, 'kube-apiserver', 52],
      [11, 'node', 0.5],
      [40, 'bench-load', 30],
    ]);
    expect(cpuBetween(before, after, { self: 11, controller: 10 })).toEqual({
      controller: 2.5,
      'kube-apiserver': 6,
      etcd: 1,
      bench: 0.5,
      testbed: 0,
      other: 0,
      load: 30,
      total: 10,
    });
  });

  it('counts a process that started during the phase from zero, and a reused pid as a new process', () => {
    const before = snap([[30, 'etcd', 9]]);
    const after = snap([
      [30, 'kwok', 2],
      [31, 'etcd', 1],
    ]);
    const used = cpuBetween(before, after, { self: 1 });
    expect(used.testbed).toBe(2);
    expect(used.etcd).toBe(1);
    expect(used.total).toBe(3);
  });

  it('reads this machine: the bench process itself shows up', () => {
    const now = cpuSnapshot();
    expect(now.get(process.pid)?.seconds).toBeGreaterThan(0);
  });
});
