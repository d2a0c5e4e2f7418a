// One narrow door for child processes (ip, openssl, coredns, docker, kind, go, …), product and
// testbed alike. Callers take a CommandRunner so their tests can pass a fake and assert on the exact
// command lines; long-running children (servers) start through startChild.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { basename } from 'node:path';
import { execa } from 'execa';

export interface RunOptions {
  cwd?: string;
  /** Added to (not replacing) the parent's environment. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin; without it stdin is closed. */
  input?: string;
  /** Kill the child after this long; default 60 s, 0 for no limit. */
  timeoutMs?: number;
  /** Return non-zero exits instead of throwing. */
  allowFailure?: boolean;
  /** Kills the child (SIGTERM) when aborted. */
  signal?: AbortSignal;
  /** Show the child's stderr on ours as it runs (long builds) instead of collecting it. */
  streamStderr?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type CommandRunner = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** A command that ran and failed (non-zero exit, signal, timeout). */
export class CommandError extends Error {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  constructor(cmd: string, args: readonly string[], why: string, result: Partial<RunResult>) {
    const tail = stderrTail(result.stderr ?? '');
    super(`${formatCommand(cmd, args)} ${why}${tail ? `:\n${tail}` : ''}`);
    this.name = 'CommandError';
    this.cmd = cmd;
    this.args = args;
    this.exitCode = result.exitCode;
    this.stdout = result.stdout ?? '';
    this.stderr = result.stderr ?? '';
  }
}

/** Where to get the tools whose absence is common, for the "not found" message. */
const INSTALL_HINTS: Record<string, string> = {
  openssl: 'is openssl installed? (apt-get install openssl)',
  ip: 'is iproute2 installed? (apt-get install iproute2)',
  kind: 'is kind installed? (https://kind.sigs.k8s.io, needs Docker)',
  docker: 'is Docker installed and running?',
  go: 'is the Go toolchain installed?',
};

/** The binary is not on PATH (or the path given does not exist). */
export class CommandNotFoundError extends Error {
  readonly cmd: string;
  constructor(cmd: string) {
    const name = basename(cmd);
    super(`${cmd} not found: ${INSTALL_HINTS[name] ?? `is ${name} installed?`}`);
    this.name = 'CommandNotFoundError';
    this.cmd = cmd;
  }
}

/** The last lines of stderr, enough to see why a tool failed without flooding the log. */
export function stderrTail(stderr: string, lines = 15): string {
  return stderr.trimEnd().split('\n').slice(-lines).join('\n').trim();
}

/** A command line as a shell would need it, for messages: `ip route add "10.0.0.0/24" …`. */
export function formatCommand(cmd: string, args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(quote).join(' ');
}

/** Runs `cmd args` without a shell and collects its output. */
export const run: CommandRunner = async (cmd, args, opts = {}) => {
  const timeout = opts.timeoutMs ?? 60_000;
  let r: Awaited<ReturnType<typeof execa>>;
  try {
    r = await execa(cmd, [...args], {
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
      stderr: opts.streamStderr ? 'inherit' : 'pipe',
      timeout: timeout > 0 ? timeout : undefined,
      cancelSignal: opts.signal,
      reject: false,
      stripFinalNewline: false,
      encoding: 'utf8',
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') throw new CommandNotFoundError(cmd);
    throw e;
  }
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  if ((r as { code?: string }).code === 'ENOENT') throw new CommandNotFoundError(cmd);
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : -1;
  const result: RunResult = { stdout, stderr, exitCode };
  if (!r.failed) return result;
  if (r.timedOut) throw new CommandError(cmd, args, `timed out after ${timeout} ms`, result);
  if (r.isCanceled) throw new CommandError(cmd, args, 'was cancelled', result);
  if (r.exitCode === undefined) {
    const why = r.signal ? `was killed by ${r.signal}` : `failed to run (${r.shortMessage ?? r.message})`;
    throw new CommandError(cmd, args, why, { ...result, exitCode: undefined });
  }
  if (opts.allowFailure) return result;
  throw new CommandError(cmd, args, `exited with code ${exitCode}`, result);
};

/** The stdout of a command that must succeed (a non-zero exit throws CommandError). */
export const stdoutOf = async (cmd: string, args: readonly string[], opts?: RunOptions): Promise<string> =>
  (await run(cmd, args, { ...opts, allowFailure: false })).stdout;

/**
 * Starts a long-running child and resolves once it runs; a missing binary rejects with
 * CommandNotFoundError instead of surfacing later as an 'error' event nobody awaits.
 */
export function startChild(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], opts);
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new CommandNotFoundError(cmd) : e),
    );
    child.once('spawn', () => resolve(child));
  });
}
