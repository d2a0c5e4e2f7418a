import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/kube/exec.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url));

/** The installed package's CLI (dist/bundle/fedctl.js, made by buildBundle()), as the image runs it. */
export const BUNDLE_ENTRY = fileURLToPath(new URL('../../dist/bundle/fedctl.js', import.meta.url));

/** Builds dist/ (scripts/build.ts: tsc and the CLI bundle) so BUNDLE_ENTRY runs this checkout's code. */
export async function buildBundle(): Promise<void> {
  await run(process.execPath, [fileURLToPath(new URL('../../scripts/build.ts', import.meta.url))], {
    cwd: repo,
    timeoutMs: 300_000,
  });
}

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Run the real CLI (`node src/cli/index.ts …`, what `npx fedctl` runs) and capture its output. */
export async function fedctl(
  args: string[],
  opts: { kubeconfig: string; env?: Record<string, string> },
): Promise<CliResult> {
  return run(process.execPath, [cli, '--kubeconfig', opts.kubeconfig, ...args], {
    cwd: repo,
    allowFailure: true,
    env: { FEDCTL_LOG: 'text', ...opts.env },
    timeoutMs: 120_000,
  });
}

/** Like fedctl() but throws with the command's stderr when it fails. */
export async function fedctlOk(
  args: string[],
  opts: { kubeconfig: string; env?: Record<string, string> },
): Promise<CliResult> {
  const r = await fedctl(args, opts);
  if (r.exitCode !== 0)
    throw new Error(`fedctl ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** A `fedctl controller` child process, logging to a file, stopped by its own pid. */
export class ControllerProcess {
  readonly logFile: string;
  #child?: ChildProcess;

  constructor(logFile: string) {
    this.logFile = logFile;
  }

  /**
   * `nodeArgs` go to Node itself (e.g. `--inspect=127.0.0.1:0` for collectGarbage()); `entry` is the
   * CLI to run: the checkout's sources (default) or the built bundle (BUNDLE_ENTRY, what the image runs).
   */
  start(args: string[], kubeconfig: string, opts: { nodeArgs?: string[]; entry?: string } = {}): void {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.#child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), opts.entry ?? cli, '--kubeconfig', kubeconfig, 'controller', ...args],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FEDCTL_LOG: 'json' },
      },
    );
    this.#child.stdout?.pipe(log);
    this.#child.stderr?.pipe(log);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running()) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Sum of a metric's samples (those whose line contains `filter`, e.g. `type="FederatedDeployment"`)
   * from the controller's /metrics, found through the address it logs (start it with --metrics-port 0).
   */
  async metric(name: string, filter = ''): Promise<number> {
    const port = this.tail(100_000).match(/serving \/healthz[^\n]*127\.0\.0\.1:(\d+)/)?.[1];
    if (!port)
      throw new Error(`the controller has not logged its metrics address yet (log: ${this.logFile})`);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .filter((l) => l.includes(filter))
      .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  }

  /**
   * A full garbage collection in a controller started with `--inspect=127.0.0.1:0`, through its
   * inspector: heap figures read right after count live objects only, not garbage awaiting a collection.
   */
  async collectGarbage(): Promise<void> {
    const url = this.tail(100_000).match(/Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/)?.[1];
    if (!url)
      throw new Error(`the controller was not started with --inspect=127.0.0.1:0 (log: ${this.logFile})`);
    const ws = new WebSocket(url);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.onerror = () => reject(new Error(`inspector ${url}: connection failed`));
        ws.onopen = () => {
          ws.onmessage = (m) => {
            if ((JSON.parse(String(m.data)) as { id?: number }).id === 1) resolve();
          };
          ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
        };
      });
    } finally {
      ws.close();
    }
  }

  /** Kills the controller without a chance to clean up (a crashed leader keeps its lease until it expires). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running()) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** The last lines of the controller's log, for diagnostics when a test fails. */
  tail(lines = 60): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no controller log)';
    }
  }
}
