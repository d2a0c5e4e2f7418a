import { execa } from 'execa';

/** Why a tool is needed, shown when it is missing. */
const HINTS: Record<string, string> = {
  openssl: 'is openssl installed? (apt-get install openssl)',
  ip: 'is iproute2 installed? (apt-get install iproute2)',
  kind: 'is kind installed? (https://kind.sigs.k8s.io, needs Docker)',
  docker: 'is Docker installed and running?',
  bash: 'is bash installed?',
  go: 'is the Go toolchain installed?',
};

export class ToolError extends Error {
  readonly tool: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(tool: string, message: string, exitCode?: number, stderr = '') {
    super(message);
    this.name = 'ToolError';
    this.tool = tool;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Milliseconds; default 60 s. */
  timeout?: number;
  /** Stream the child's stderr to ours (for long builds). */
  streamStderr?: boolean;
}

/**
 * Runs a tool and returns its stdout. A missing binary becomes "is X installed?", a failure carries
 * the full command line and the tail of stderr.
 */
export async function run(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const name = tool.split('/').pop() ?? tool;
  try {
    const r = await execa(tool, args, {
      input: opts.input,
      cwd: opts.cwd,
      env: opts.env,
      timeout: opts.timeout ?? 60_000,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      stderr: opts.streamStderr ? 'inherit' : 'pipe',
      reject: false,
    });
    if (r.failed) {
      const code = (r as { code?: string }).code;
      if (code === 'ENOENT') {
        throw new ToolError(name, `${name}: command not found: ${HINTS[name] ?? `is ${name} installed?`}`);
      }
      const stderr = typeof r.stderr === 'string' ? r.stderr.trim() : '';
      const tail = stderr.split('\n').slice(-15).join('\n');
      const why = r.timedOut ? `timed out after ${opts.timeout ?? 60_000} ms` : `exited with ${r.exitCode}`;
      throw new ToolError(
        name,
        `${[tool, ...args].join(' ')} ${why}${tail ? `:\n${tail}` : ''}`,
        r.exitCode ?? undefined,
        stderr,
      );
    }
    return typeof r.stdout === 'string' ? r.stdout : '';
  } catch (e) {
    if (e instanceof ToolError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new ToolError(name, `${name}: command not found: ${HINTS[name] ?? `is ${name} installed?`}`);
    }
    throw e;
  }
}

/** `openssl …` with the installed-check wrapper. */
export const openssl = (args: readonly string[], opts?: RunOptions): Promise<string> =>
  run('openssl', args, opts);

/** `ip …` (iproute2) with the installed-check wrapper. */
export const ip = (args: readonly string[], opts?: RunOptions): Promise<string> => run('ip', args, opts);
