// Where the CPU of a benchmark phase went, per role (the controller, the API servers, etcd, the
// bench's own client, the rest of the testbed). On two shared cores every phase saturates the
// machine, so a phase's wall time is about its total CPU divided by two: this is what says which
// process a slower phase paid for. Read from /proc/<pid>/stat (utime + stime), so the figures do not
// depend on what the process reports about itself.
import { readdirSync, readFileSync } from 'node:fs';
import { LOAD_COMM } from './load.ts';

/** pid → { comm, CPU seconds so far }. */
export type CpuSnapshot = Map<number, { comm: string; seconds: number }>;

/** Roles a phase's CPU is grouped into. */
export type CpuRole = 'controller' | 'kube-apiserver' | 'etcd' | 'bench' | 'testbed' | 'other' | 'load';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
const TICKS = 100;

/** comm and CPU seconds of one /proc/<pid>/stat line; undefined when it does not parse. Pure. */
export function parseStat(line: string): { comm: string; seconds: number } | undefined {
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = line.slice(close + 2).split(' ');
  // After comm: state is field 3, utime field 14, stime field 15 (1-based, proc(5)).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { comm: line.slice(open + 1, close), seconds: (utime + stime) / TICKS };
}

/** Every process's CPU time now. Processes that end between listing and reading are skipped. */
export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parsed = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (parsed) out.set(Number(entry), parsed);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const TESTBED_COMMS = new Set(['kube-controller', 'kube-scheduler', 'kwok', 'coredns']);

/** The role of one process. `controller` is the peer's pid (undefined while it is stopped). Pure. */
export function roleOf(pid: number, comm: string, self: number, controller?: number): CpuRole {
  if (pid === controller) return 'controller';
  if (pid === self) return 'bench';
  if (comm === 'kube-apiserver') return 'kube-apiserver';
  if (comm === 'etcd') return 'etcd';
  // comm is cut to 15 characters (kube-controller-manager → kube-controller).
  if (TESTBED_COMMS.has(comm)) return 'testbed';
  if (comm === LOAD_COMM) return 'load';
  return 'other';
}

/** CPU seconds per role between two snapshots, and their total (without the load). Pure. */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
  opts: { self: number; controller?: number },
): Record<CpuRole | 'total', number> {
  const out: Record<CpuRole | 'total', number> = {
    controller: 0,
    'kube-apiserver': 0,
    etcd: 0,
    bench: 0,
    testbed: 0,
    other: 0,
    load: 0,
    total: 0,
  };
  for (const [pid, now] of after) {
    const was = before.get(pid);
    // A pid reused by another program between the snapshots is a new process.
    const start = was && was.comm === now.comm ? was.seconds : 0;
    const d = now.seconds - start;
    if (d <= 0) continue;
    const role = roleOf(pid, now.comm, opts.self, opts.controller);
    out[role] += d;
    // The load stands for other tenants of the machine, not for work of the run.
    if (role !== 'load') out.total += d;
  }
  for (const k of Object.keys(out) as Array<keyof typeof out>) out[k] = Math.round(out[k] * 100) / 100;
  return out;
}

/** Measures the CPU of each role over one phase: `const done = cpuPhase(pid); …; done()`. */
export function cpuPhase(controller?: () => number | undefined): () => Record<CpuRole | 'total', number> {
  const before = cpuSnapshot();
  return () => cpuBetween(before, cpuSnapshot(), { self: process.pid, controller: controller?.() });
}
