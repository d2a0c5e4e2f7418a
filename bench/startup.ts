// CLI start time from the installed npm package: `fedctl --help` and `fedctl version --client`,
// against two baselines measured in the same run: Node starting an empty script (the floor no CLI
// can beat) and the checkout running the TypeScript sources (what every start cost before the
// bundle). The compile cache is warmed by one untimed run each, as any second start would be.
//   npm run --silent bench:startup            (BENCH_RUNS=N, default 15)
// Wall time depends on the machine's load: the load average is printed with the figures.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAndInstall, projectNodePath, REPO } from '../e2e/install/pack.ts';
import { percentile } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

// CPU time of reaped children (user + system, ms) from /proc/self/stat: steadier than wall time on
// a loaded machine. Clock ticks are 10 ms on Linux.
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function time(cmd: string, args: string[]): { wall: number[]; cpu: number[] } {
  const env = { ...process.env, PATH: projectNodePath() };
  execFileSync(cmd, args, { env, stdio: 'ignore' });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = childrenCpuMs();
    const t0 = performance.now();
    execFileSync(cmd, args, { env, stdio: 'ignore' });
    wall.push(performance.now() - t0);
    cpu.push(childrenCpuMs() - c0);
  }
  return { wall, cpu };
}

const dir = mkdtempSync(join(tmpdir(), 'fedctl-bench-startup-'));
try {
  const pkg = await packAndInstall(dir);
  const node = process.execPath;
  const rows: [string, { wall: number[]; cpu: number[] }][] = [
    ['node -e 0 (floor)', time(node, ['-e', '0'])],
    ['fedctl --help (installed)', time(pkg.bin, ['--help'])],
    ['fedctl version --client (installed)', time(pkg.bin, ['version', '--client'])],
    ['fedctl --help (checkout sources)', time(node, [join(REPO, 'src', 'cli', 'index.ts'), '--help'])],
  ];
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  process.stdout.write(`startup, ${RUNS} runs each, load average ${load}, ${node}\n`);
  for (const [name, s] of rows) {
    const f = (xs: number[], p: number) => `${(percentile(xs, p) / 1000).toFixed(2)} s`;
    process.stdout.write(
      `  ${name.padEnd(38)} wall p50 ${f(s.wall, 50)} p90 ${f(s.wall, 90)} min ${f(s.wall, 0)}   cpu p50 ${f(s.cpu, 50)}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
