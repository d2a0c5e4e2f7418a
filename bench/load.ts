// BENCH_LOAD=N: N processes that each spin one core for the whole run, standing for other tenants
// of the machine, so the figures can be taken under load as well as on a quiet machine. Their CPU
// is reported as its own role and left out of every CPU total (bench/cpu.ts).
import { type ChildProcess, spawn } from 'node:child_process';

/** The processes' name in /proc/<pid>/comm, by which bench/cpu.ts tells them apart. */
export const LOAD_COMM = 'bench-load';

// Spins; every second or so checks that the bench still runs (a killed bench leaves no spinner behind).
const SPINNER = `process.title = '${LOAD_COMM}';
const parent = process.ppid;
for (let i = 0; ; i++) if (i % 1e8 === 0 && process.ppid !== parent) process.exit(0);`;

/** "2" → 2; unset or empty → 0. */
export function parseLoad(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`BENCH_LOAD must be a whole number ≥ 0, got "${value}"`);
  return n;
}

export interface Load {
  readonly processes: number;
  /** Stops every spinner (by its own pid) and waits for it to exit. */
  stop(): Promise<void>;
}

export function startLoad(n: number): Load {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) children.push(spawn(process.execPath, ['-e', SPINNER], { stdio: 'ignore' }));
  const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
  const killAll = () => {
    for (const c of children) if (running(c)) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  return {
    processes: n,
    async stop() {
      process.off('exit', killAll);
      await Promise.all(
        children.filter(running).map(
          (c) =>
            new Promise<void>((resolve) => {
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
